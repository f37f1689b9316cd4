"""Measure the scope checker.

    python -m bench.scope [--json] [--no-latency] [--only SET ...] [--skip SET ...] [--summary]
    python -m bench.scope.learn [--write]   # the learned decision, one project held out at a time
    python -m bench.scope.corrections       # what a PM's corrections give as a project goes on

Every set is reported the same way: confusion matrix, macro-F1, leak, per-class recall (in scope, out of
scope, unlisted), per language, per project and per hard tag, how often a named clause is the right one,
and how the confidence bands hold up. `--summary` prints one line per set and language.

The verdict is a learned decision over the checker's evidence (`bot.scope.model`), trained on every set
below and on the shared dev set: the numbers here are therefore those of projects the decision was trained
on. The honest estimate for an unseen project is `python -m bench.scope.learn`, which trains it with one
project held out at a time and reports every set and language that way.

1. Quality on the shared development set (`../shared/scope-eval/dev` beside the repository), when present.
2. Quality on this repository's own projects, none of which the dev-set tuning saw, from most to least
   looked at while the checker was changed:
   - `bench/scope/projects` (five projects; the first three were written before any tuning, the last two
     after; their overall numbers were watched while choosing between designs);
   - `bench/scope/fresh` (two projects written after the first tuning and measured once, at its end);
   - `bench/scope/holdout` (three projects in other domains, written before a second round of tuning and
     measured only after it: macro-F1 0.690, leak 14.8%. A few general fixes were then made from its
     mistakes, so its numbers since overstate a truly unseen project);
   - `bench/scope/tune` and `bench/scope/final`: eight projects in domains unlike all the above (library,
     motor claims, driving school, school-home platform; magazine subscriptions, lab samples, shop-floor
     reporting, home cleaning), half English and half Chinese, 242 requests, written before a third round
     of changes. Before it the checker scored tune 0.683 / 16.2% leak and final 0.771 / 11.1%.
     The round watched `tune` (and the sets above) only; some of its general vocabulary was chosen after
     reading tune's misses, so tune now overstates (0.902 / 0.0%). `final` was measured once at the end
     of the round: macro-F1 0.791, leak 4.2%. Both halves were written knowing how the checker works, so even
     `final` is less blind than projects written independently would be. The fourth round (below) read
     `final`'s mistakes too, so it now overstates as well;
   - `bench/scope/final2`: six projects in domains unlike all the above (a housebuilder's site app, a council
     planning portal, a grain co-operative; a gym, a tea maker's distributor ordering, an EV charging
     operator), half English and half Chinese, 180 requests, written before a fourth round of changes and
     measured before the round (macro-F1 0.723, leak 10.4%) and once at its end (macro-F1 0.711, leak 10.4%).
     The round (everyday bilingual synonyms, related concepts for reports and questions, question cues,
     fewer false "also" readings) raised every other set and looked at every set above but never at this
     one: on it the round did not help. Its author also wrote the round's vocabulary, so even this set is
     less blind than projects written by someone else would be. Its mistakes were read after that one
     measurement, so it is spent too: one general fix found that way (a synonym of an everyday word that
     no item has weighs like an everyday word) brings it to 0.720, leak 10.4%. The fifth round (below) read
     its mistakes again and fixed some of them (0.745, leak 7.3% at its end), so it overstates now;
   - `bench/scope/final3`: six projects in domains unlike all the above (a marina's berth bookings, a solar
     installer, a translation agency; a guesthouse, a wedding photo studio, a water utility), half English and
     half Chinese, 186 requests, written before a fifth round of changes and before its author read the
     checker's vocabulary or rules. Measured once before the round (macro-F1 0.796, leak 12.1%) and once at
     its end (macro-F1 0.817, leak 7.1%). The round (what "besides X, Y" / "除了X，还要Y" asks beyond X; moving
     from a service the item names to another; a product no item names; users doing themselves what the item
     has staff do; a Chinese word split by a measure word; renting) was checked on every set above, never on
     this one (the first measurement printed its fifteen worst mistakes; the rules come from the patterns
     above, seen on the other sets). Its author also wrote this set and knew the leak patterns the round
     aimed at, so even this set is less blind than projects written by someone else. It is spent now.
   - `bench/scope/blind4-tune`: four projects (an airline's crew rostering tool, a SaaS billing migration to
     Stripe; a hardware wholesaler's ERP roll-out, a pharma group's IT service desk), two English and two
     Chinese, 160 requests, 70% hard cases. Written blind, by people who never saw the checker, from the
     shared README and one dev example only, and checked by a second labeller; it is the half of this
     round's blind sets that the round was allowed to read and tune on (the other half was kept unread for
     the closing measurement). Before the round: macro-F1 0.664, leak 9.4%, in-scope recall 0.56,
     out-of-scope recall 0.66; at its end 0.688, 8.3%, 0.58 and 0.68. The round tuned on it, so its numbers
     now overstate an unseen project;
   - `bench/scope/blind4-tune2`: six more blind projects of the same round (cold-chain monitoring, a customs
     portal, hotel housekeeping, museum collections, a newsroom CMS, a vet hospital), 240 requests, written the
     same way. It arrived at the end of the round and was measured once before the round's changes
     (macro-F1 0.723, leak 7.6%, in-scope recall 0.58, out-of-scope recall 0.79) and once after (0.719, 6.2%,
     0.56, 0.79), with nothing tuned on it. The learned decision that followed read some of its mistakes;
   - `bench/scope/blind4-heldout`: the unread half of the sixth round's blind sets (orchard irrigation in
     English and in Chinese, a research-grant trust, a city bus app), 160 requests, written and labelled the
     same way and opened by nobody until the round's end. Measured once before the round (macro-F1 0.618,
     leak 11.5%, in-scope recall 0.56, out-of-scope recall 0.57) and once after it (0.606, 6.3%, 0.52, 0.55),
     aggregates only. It is spent now, and so far nothing was trained on it.
   - `bench/scope/blind5-tune` and `bench/scope/blind5-heldout`: the seventh round's blind sets, eight
     projects in domains none of the others share (a council's bin-collection app, a herbal pharmacy's
     decoction and delivery service, a winery's wine club, business travel and expenses; an air-cargo
     booking portal, a cemetery's visit and tomb-care mini-program, a ski resort's shop, a container
     terminal's truck appointments), four English and four Chinese, 40 requests each, 80% hard cases.
     Written by people who never saw the checker, from the shared README and one dev example only, and
     labelled again, blind, by a second labeller (who agreed on all 320). `blind5-tune` was the half the
     round could read; `blind5-heldout` was opened by nobody until the round's end and measured once
     before and once after (macro-F1 0.660, leak 14.8%, in-scope recall 0.57, out-of-scope recall 0.64,
     both times: the round's changes touched none of its requests). It is spent now.
   - `bench/scope/blind6`: eight more blind projects written the same way after `blind5-heldout` was read
     (rail season tickets and delay repay, a crafts studio's classes and kits, car sharing, public rental
     housing, dog daycare, a staff canteen, a rowing club, lift maintenance alarms), four English and four
     Chinese, 319 requests (the second labeller agreed on 319 of 320 and dropped the other as ambiguous).
     Nobody read it until the round's end: measured once on the checker before the round (macro-F1 0.698,
     leak 6.9%, in-scope recall 0.61, out-of-scope recall 0.67) and once after (0.705, 6.9%, 0.62, 0.67).
     It is spent now.
   - `bench/scope/blind7-tune` and `bench/scope/blind7-heldout`: the eighth round's blind sets, eight
     projects in domains none of the others share (a blood service's donor booking, a commercial laundry's
     customer portal, a community group-buying mini-program, a postnatal care centre; an archaeology unit's
     field records, a drone-survey client portal, a parcel station, a fish farm), four English and four
     Chinese, 40 requests each, 92% hard cases, written from the shared README and one dev example only by
     people who never saw the checker, and labelled again, blind, by a second labeller (who agreed on all
     320 labels and items). `blind7-tune` was the half the round could read; `blind7-heldout` was opened by
     nobody until the round's end and measured once before (macro-F1 0.656, leak 6.7%, in-scope recall 0.61,
     out-of-scope recall 0.56) and once after: 0.649, 4.8%, 0.54, 0.60 with words and rules; 0.706, 3.9%,
     0.64, 0.63 with the request's embedding (the [semantic] extra). It was then added to the training
     data (held out one project at a time: 0.661 / 4.8% and 0.681 / 4.8%); it is spent.
   - `bench/scope/blind8-tune` and `bench/scope/blind8-heldout`: the ninth round's blind sets, eight projects in
     domains none of the others share (a county court's jury-service portal, a pest-control company's field
     app, a district's meal service for the elderly, a farm-machinery co-operative's dispatch and billing; an
     auction house's bidding and consignment site, a film-equipment rental house, a university's shared lab
     instruments, a scenic old town's timed entry and audio guide), four English and four Chinese, 40 requests
     each, 89% hard cases, written from the shared README and one dev example only by people who never saw the
     checker, and labelled again, blind, by a second labeller (who agreed on all 320 labels and items).
     `blind8-tune` was the half the round could read; `blind8-heldout` was opened by nobody until the round's
     end and measured once before (macro-F1 0.657, leak 11.2% with words and rules; 0.699, 7.1% with the
     request's embedding) and once after (0.657, 11.2%; 0.694, 4.1%). It was then added to the training data
     of the embedding's verdict and of its neighbours; it is spent.
3. Latency on generated 12-item and 1,000-item scopes (median per request, one core), and the time to
   import the checker and give a first verdict in a fresh interpreter.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from adapters.cli.scope import load_rows, load_scopes
from bot.domain import Language, Scope, ScopeItem
from bot.scope import semantic
from bot.scope.evaluate import evaluate, format_report
from bot.scope.judge import ScopeJudge

ROOT = Path(__file__).resolve().parents[2]
DEV = ROOT.parent / "shared" / "scope-eval" / "dev"
HERE = Path(__file__).resolve().parent
# (key, folder, title): every labelled set beside the dev set, oldest first.
SETS: tuple[tuple[str, Path, str], ...] = (
    ("own_projects", HERE / "projects", "own projects (bench/scope/projects)"),
    ("fresh_projects", HERE / "fresh", "fresh projects (bench/scope/fresh)"),
    ("holdout_projects", HERE / "holdout", "held-out projects of the second round (bench/scope/holdout)"),
    ("tune_projects", HERE / "tune", "unseen-style projects, tuning half (bench/scope/tune)"),
    ("final_projects", HERE / "final", "unseen-style projects, final half (bench/scope/final)"),
    ("final2_projects", HERE / "final2", "unseen-style projects of the fourth round (bench/scope/final2)"),
    ("final3_projects", HERE / "final3", "unseen-style projects of the fifth round (bench/scope/final3)"),
    ("blind4_tune", HERE / "blind4-tune", "blind projects of the sixth round, readable half (bench/scope/blind4-tune)"),
    ("blind4_tune2", HERE / "blind4-tune2", "more blind projects of the sixth round (bench/scope/blind4-tune2)"),
    ("blind4_heldout", HERE / "blind4-heldout", "the sixth round's unread half, spent (bench/scope/blind4-heldout)"),
    (
        "blind5_tune",
        HERE / "blind5-tune",
        "blind projects of the seventh round, readable half (bench/scope/blind5-tune)",
    ),
    (
        "blind5_heldout",
        HERE / "blind5-heldout",
        "the seventh round's unread half, spent (bench/scope/blind5-heldout)",
    ),
    ("blind6", HERE / "blind6", "the seventh round's last blind set, spent (bench/scope/blind6)"),
    (
        "blind7_tune",
        HERE / "blind7-tune",
        "blind projects of the eighth round, readable half (bench/scope/blind7-tune)",
    ),
    (
        "blind7_heldout",
        HERE / "blind7-heldout",
        "the eighth round's unread half, spent (bench/scope/blind7-heldout)",
    ),
    (
        "blind8_tune",
        HERE / "blind8-tune",
        "blind projects of the ninth round, readable half (bench/scope/blind8-tune)",
    ),
    (
        "blind8_heldout",
        HERE / "blind8-heldout",
        "the ninth round's unread half, spent (bench/scope/blind8-heldout)",
    ),
)

# --- latency --------------------------------------------------------------------------------------

_WORDS = (
    "order invoice report dashboard export login account role catalog search filter price stock supplier "
    "delivery tracking notification email alert schedule booking calendar payment refund coupon user admin "
    "review approval document upload photo map region store warehouse shipment contract customer ticket"
).split()
_ZH = "订单 发票 报表 看板 导出 登录 账号 权限 商品 搜索 筛选 价格 库存 供应商 配送 通知 提醒 预约 支付 退款 优惠券 后台".split()


def generated_scope(n_items: int, seed: int = 7) -> Scope:
    rnd = random.Random(seed)

    def item(i: int, prefix: str) -> ScopeItem:
        title = " ".join(rnd.sample(_WORDS, 4)) + f" {prefix}{i}"
        notes = " ".join(rnd.sample(_WORDS, 8)) + ". " + "".join(rnd.sample(_ZH, 3)) + "。"
        return ScopeItem(f"{prefix}{i}", title, notes)

    n_out = max(2, n_items // 5)
    return Scope(
        project=f"generated-{n_items}",
        name="Generated project",
        language=Language.EN,
        goals=("Measure the checker",),
        in_scope=tuple(item(i, "in") for i in range(n_items)),
        out_of_scope=tuple(item(i, "out") for i in range(n_out)),
    )


def generated_requests(n: int, seed: int = 11) -> list[str]:
    rnd = random.Random(seed)
    texts = []
    for i in range(n):
        if i % 3 == 2:
            texts.append("能不能" + "".join(rnd.sample(_ZH, 3)) + "？另外" + "".join(rnd.sample(_ZH, 2)) + "也要。")
        else:
            texts.append(
                "Could the " + " ".join(rnd.sample(_WORDS, 5)) + " also work for our new team? 1. fix it 2. add more"
            )
    return texts


def latency(n_items: int, n_requests: int = 300) -> dict[str, float]:
    sc = generated_scope(n_items)
    checker = ScopeJudge()
    texts = generated_requests(n_requests)
    checker.check(sc, texts[0])  # build the index once, as a running service has
    semantic.vector.cache_clear()  # each request embedded afresh, as new requests are
    times = []
    for t in texts:
        start = time.perf_counter()
        checker.check(sc, t)
        times.append((time.perf_counter() - start) * 1000)
    return {
        "items": n_items,
        "median_ms": round(statistics.median(times), 3),
        "p95_ms": round(sorted(times)[int(0.95 * len(times))], 3),
    }


def first_verdict_seconds() -> float:
    code = (
        "import time; t=time.perf_counter();"
        "from bot.domain import Scope, ScopeItem, Language; from bot.scope import default_checker;"
        "s=Scope('p','P',Language.EN,(),(ScopeItem('a','Order history','CSV export.'),),());"
        "default_checker().check(s,'Can I export my orders?'); print(time.perf_counter()-t)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    return round(float(out.stdout.strip()), 3)


def _pin_one_core() -> None:
    if hasattr(os, "sched_setaffinity"):
        try:
            os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
        except OSError:
            pass


def _short(name: str, rep: dict[str, Any]) -> list[str]:
    def line(label: str, r: dict[str, Any]) -> str:
        rec = r["recall"]

        def f(x: float | None) -> str:
            return "  - " if x is None else f"{x:.2f}"

        return (
            f"  {label:<22} n={r['n']:<4} macro-F1={r['macro_f1']:.3f}  leak={r['leak']:5.1%}  "
            f"in-recall={f(rec['in_scope'])}  out-recall={f(rec['out_of_scope'])}  unlisted-recall={f(rec['unlisted'])}"
        )

    out = [line(name, rep)]
    out.extend(line(f"  {lang}", r) for lang, r in rep["per_language"].items())
    return out


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(prog="python -m bench.scope")
    ap.add_argument("--json", action="store_true", help="print one JSON object")
    ap.add_argument("--summary", action="store_true", help="one line per set and language")
    ap.add_argument("--no-latency", action="store_true")
    ap.add_argument("--only", nargs="*", default=None, help="only these sets (keys or folder names)")
    ap.add_argument("--skip", nargs="*", default=(), help="leave these sets out (keys or folder names)")
    args = ap.parse_args(argv)
    _pin_one_core()
    result: dict[str, Any] = {"semantic": semantic.enabled()}
    print(
        "the request's embedding (the [semantic] extra): "
        + ("in use (INTAKE_SCOPE_SEMANTIC=off measures the checker without it)" if result["semantic"] else "not in use")
    )
    wanted = [
        (key, folder, title)
        for key, folder, title in SETS
        if (args.only is None or key in args.only or folder.name in args.only)
        and key not in args.skip
        and folder.name not in args.skip
    ]
    if DEV.is_dir() and (args.only is None or "dev" in args.only):
        scopes, rows = load_scopes(str(DEV)), load_rows(str(DEV / "requests.jsonl"))
        result["dev"] = evaluate(ScopeJudge(), scopes, rows, worst=10)
    elif not DEV.is_dir():
        result["dev"] = None
        print(f"(no development set at {DEV.name}: skipping it)")
    for key, folder, _title in wanted:
        result[key] = evaluate(
            ScopeJudge(), load_scopes(str(folder)), load_rows(str(folder / "requests.jsonl")), worst=10
        )
    if not args.no_latency:
        result["latency"] = [latency(12), latency(1000)]
        result["import_and_first_verdict_s"] = first_verdict_seconds()
    if args.json:
        print(json.dumps(result, ensure_ascii=False, indent=2))
        return
    if args.summary:
        if result.get("dev"):
            print("\n".join(_short("dev", result["dev"])))
        for key, _folder, _title in wanted:
            print("\n".join(_short(key, result[key])))
    else:
        if result.get("dev"):
            print("== development set (shared/scope-eval/dev) ==")
            print(format_report(result["dev"]))
        for key, _folder, title in wanted:
            print(f"\n== {title} ==")
            print(format_report(result[key]))
    if "latency" in result:
        print("\n== latency (one core) ==")
        for lat in result["latency"]:
            print(f"  {lat['items']:>5} items: median {lat['median_ms']:.3f} ms, p95 {lat['p95_ms']:.3f} ms")
        print(f"  import + first verdict: {result['import_and_first_verdict_s']:.3f} s")


if __name__ == "__main__":
    main(sys.argv[1:])
