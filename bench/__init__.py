"""Benchmarks: `python -m bench` runs them all; each area has its own `python -m bench.<area>`."""
