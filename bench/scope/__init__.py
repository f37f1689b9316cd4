"""Scope checker benchmark: quality on labelled projects, leave-one-project-out, and latency."""
