"""Run every benchmark under bench/."""

from __future__ import annotations

import importlib
import pkgutil
from pathlib import Path


def main() -> None:
    here = Path(__file__).resolve().parent
    for mod in sorted(m.name for m in pkgutil.iter_modules([str(here)]) if m.ispkg):
        bench = importlib.import_module(f"bench.{mod}.__main__")
        print(f"=== bench.{mod} ===", flush=True)
        bench.main([])


if __name__ == "__main__":
    main()
