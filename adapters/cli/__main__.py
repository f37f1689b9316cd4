"""`python -m adapters.cli` runs the `intake` command."""

from adapters.cli.main import main

main()
