"""Run every benchmark under bench/, or one: `python -m bench NAME [ARGS]` (e.g. `python -m bench scale`)."""

from __future__ import annotations

import importlib
import pkgutil
import sys
from pathlib import Path


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    here = Path(__file__).resolve().parent
    names = sorted(m.name for m in pkgutil.iter_modules([str(here)]) if m.ispkg)
    if argv and not argv[0].startswith("-"):
        if argv[0] not in names:
            sys.exit(f"no benchmark named {argv[0]!r}; there are: {', '.join(names)}")
        importlib.import_module(f"bench.{argv[0]}.__main__").main(argv[1:])
        return
    for mod in names:
        bench = importlib.import_module(f"bench.{mod}.__main__")
        print(f"=== bench.{mod} ===", flush=True)
        bench.main([])


if __name__ == "__main__":
    main()
