"""The `intake` command line. Its area modules (letter, report, scope…) use helpers of `main`, and `main`
registers their commands as it loads: `main` goes first, whichever of them is imported first."""

from adapters.cli import main as _main  # noqa: F401
