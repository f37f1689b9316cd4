"""What a PM's corrections give on a project the checker has never seen.

    python -m bench.scope.corrections [--only SET ...] [--seeds N] [--param NAME=VALUE ...] [--json]

A project starts with no corrected examples. Its requests arrive one by one (in a shuffled order, one run per
seed); each is judged with the corrections made so far, and when the verdict is wrong (the wrong kind, or the
right kind naming the wrong item or exclusion) the PM corrects it, which is what the review card lets them
do. Reported per set: the verdict with no corrections at all against the verdict as the project goes on, over
the whole stream and over its second half, and how many corrections the PM made.

The blind sets are written so that no two requests ask the same thing: near neighbours differ on purpose
(the same export, "and to SAP every night"). Where a set has `repeats.jsonl` (the same asks sent again later,
in other words, by other people: {"of": id, "text": ..., "distance": "close" | "far"}), those arrive after
all the originals, and are reported apart: do the PM's corrections carry to the same ask said again?

The learned decision is trained with the project held out (as `python -m bench.scope.learn` measures it), so
the first request of each project is judged as on a project never seen. The request's embedding is used when
the `semantic` extra is installed, unless INTAKE_SCOPE_SEMANTIC=off.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from collections import defaultdict
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

from adapters.cli.scope import load_rows, load_scopes
from bot.domain import Example, Scope, VerdictKind
from bot.scope import model
from bot.scope.evaluate import Row
from bot.scope.judge import Params, ScopeJudge

from .__main__ import DEV, SETS
from .learn import Models, feature_names, load_cases, semantic_names, summary, train, verdict_probabilities

BLIND = (
    "blind4-tune",
    "blind4-tune2",
    "blind4-heldout",
    "blind5-tune",
    "blind5-heldout",
    "blind6",
    "blind7-tune",
    "blind7-heldout",
)


@contextmanager
def decision(m: Models, features: Sequence[str]) -> Iterator[None]:
    """The checker's learned decision replaced, for the block, by `m` (trained without the project)."""
    saved = (model.verdict_probabilities, model.item_right, model.exclusion_right)
    model.verdict_probabilities = lambda x: verdict_probabilities(x, m, features)  # type: ignore[assignment]
    model.item_right = lambda x: model.probabilities(x, *m.item, features)[1]  # type: ignore[assignment]
    model.exclusion_right = lambda x: model.probabilities(x, *m.exclusion, features)[1]  # type: ignore[assignment]
    try:
        yield
    finally:
        model.verdict_probabilities, model.item_right, model.exclusion_right = saved  # type: ignore[assignment]


def wrong(row: Row, kind: VerdictKind, item: str | None) -> bool:
    return kind.value != row.label or (kind is not VerdictKind.UNLISTED and item != row.item)


def stream(judge: ScopeJudge, scope: Scope, rows: list[Row]) -> tuple[list[tuple[str, str]], int]:
    """Judge `rows` in order, the PM correcting every wrong verdict; the (label, verdict) pairs and how many
    corrections were made."""
    examples: list[Example] = []
    pairs = []
    for row in rows:
        v = judge.check(replace(scope, examples=tuple(examples)), row.text)
        pairs.append((row.label, v.verdict.value))
        if wrong(row, v.verdict, v.item_id):
            examples.append(Example(row.text, VerdictKind(row.label), row.item))
    return pairs, len(examples)


def load_repeats(folder: Path, rows: list[Row]) -> list[Row]:
    """The same asks sent again (`repeats.jsonl`), labelled as the request each one restates."""
    path = folder / "repeats.jsonl"
    if not path.is_file():
        return []
    by_id = {r.id: r for r in rows}
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            d = json.loads(line)
            o = by_id[d["of"]]
            out.append(replace(o, id=f"{o.id}~again", text=d["text"], note=d.get("distance", "")))
    return out


def run(sets: Sequence[str], seeds: int, params: Params | None = None, log: Any = None) -> dict[str, Any]:
    cases = load_cases()
    features = feature_names(cases)
    sem_features = semantic_names(cases, features)
    folders = {folder.name: folder for _k, folder, _t in SETS}
    if DEV.is_dir():
        folders["dev"] = DEV
    out: dict[str, Any] = {}
    for name in sets:
        folder = folders[name]
        scopes = load_scopes(str(folder))
        rows = [r for r in load_rows(str(folder / "requests.jsonl")) if r.project in scopes]
        again = load_repeats(folder, rows)
        pairs: defaultdict[str, list[tuple[str, str]]] = defaultdict(list)
        corrections = 0
        for project in sorted(scopes):
            m = train([c for c in cases if c.project != f"{name}/{project}"], features, sem_features)
            mine = [r for r in rows if r.project == project]
            later = [r for r in again if r.project == project]
            with decision(m, features):
                judge = ScopeJudge(params)
                first = {r.id: judge.check(scopes[project], r.text).verdict.value for r in mine + later}
                for seed in range(seeds):
                    order, order_again = mine[:], later[:]
                    random.Random(seed).shuffle(order)
                    random.Random(seed).shuffle(order_again)
                    got, n = stream(judge, scopes[project], order + order_again)
                    corrections += n
                    half = len(order) // 2
                    pairs["none"] += [(r.label, first[r.id]) for r in order]
                    pairs["with_corrections"] += got[: len(order)]
                    pairs["second_half_none"] += [(r.label, first[r.id]) for r in order[half:]]
                    pairs["second_half_with"] += got[half : len(order)]
                    for r, g in zip(order_again, got[len(order) :], strict=True):
                        for key in ("again", f"again_{r.note}"):
                            pairs[f"{key}_none"].append((r.label, first[r.id]))
                            pairs[f"{key}_with"].append(g)
            if log:
                print(f"  {name}/{project}", file=log, flush=True)
        out[name] = {
            "n": len(rows),
            "n_again": len(again),
            "corrections_per_project": round(corrections / seeds / len(scopes), 1),
            **{k: summary(v) for k, v in pairs.items()},
        }
    return out


def _fmt(s: dict[str, Any]) -> str:
    return (
        f"F1 {s['macro_f1']:.3f} leak {s['leak']:.1%} in {s['in_recall'] or 0:.2f}"
        f" out {s['out_recall'] or 0:.2f} unlisted {s['unlisted_recall'] or 0:.2f}"
    )


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(prog="python -m bench.scope.corrections")
    ap.add_argument("--only", nargs="+", default=list(BLIND), help="the sets to run (folder names)")
    ap.add_argument("--seeds", type=int, default=3, help="shuffled orders per project")
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--param", nargs="*", default=[], metavar="NAME=VALUE", help="checker parameters to try")
    args = ap.parse_args(argv)
    start = time.perf_counter()
    params = Params(**{k: float(v) for k, v in (a.split("=", 1) for a in args.param)})
    result = run(args.only, args.seeds, params, log=sys.stderr)
    if args.json:
        print(json.dumps(result, indent=2))
        return
    for name, s in result.items():
        print(f"{name} (n={s['n']}, {s['corrections_per_project']} corrections a project)")
        print(f"  no corrections         {_fmt(s['none'])}")
        print(f"  corrected as it goes   {_fmt(s['with_corrections'])}")
        print(f"  second half, none      {_fmt(s['second_half_none'])}")
        print(f"  second half, corrected {_fmt(s['second_half_with'])}")
        for key, title in (
            ("again", "the same asks again"),
            ("again_close", "  in close words"),
            ("again_far", "  in other words"),
        ):
            if f"{key}_none" in s:
                print(f"  {title} (n={s[f'{key}_none']['n']})")
                print(f"    no corrections       {_fmt(s[f'{key}_none'])}")
                print(f"    after corrections    {_fmt(s[f'{key}_with'])}")
    print(f"({time.perf_counter() - start:.0f} s)")


if __name__ == "__main__":
    main(sys.argv[1:])
