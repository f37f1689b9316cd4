"""The fake Slack Web API in a process of its own, so it takes no CPU from the load generator.

    python -m bench.ack.fake --port PORT

Besides Slack's methods it answers `GET /_stats` (what was posted, for the lost/duplicated check) and
`POST /_delay?seconds=S` (make every Web API call take S seconds, a slow Slack).
"""

from __future__ import annotations

import argparse
import asyncio
import re
from collections import Counter

from aiohttp import web

from tests.support.fake_slack import FakeSlack

REF = re.compile(r"\b[A-Z][A-Z0-9]*-\d+\b")


def stats(fake: FakeSlack) -> dict[str, object]:
    cards: Counter[str] = Counter()
    for c in fake.calls:
        if c.method == "chat.postMessage" and c.args.get("channel") == "C0REVIEW":
            m = REF.search(str(c.args.get("text", "")))
            cards[m.group(0) if m else "?"] += 1
    methods = Counter(c.method for c in fake.calls)
    last_at = {c.method: c.at for c in fake.calls}
    return {
        "review_cards": dict(cards),
        "methods": dict(methods),
        "last_at": last_at,  # wall clock when the latest call of each method arrived
        "responses": len(fake.responses),
        "receipts": sum(1 for r in fake.responses if str(r.get("text", "")).startswith("Recorded ")),
        "last_response": str(fake.responses[-1].get("text", ""))[:300] if fake.responses else None,
        "last_response_at": fake.responded_at[-1] if fake.responded_at else None,
    }


async def run(port: int) -> None:
    fake = FakeSlack()
    await fake.start()
    control = web.Application()

    async def get_stats(request: web.Request) -> web.Response:
        return web.json_response(stats(fake))

    async def set_delay(request: web.Request) -> web.Response:
        fake.delay = float(request.query.get("seconds", "0"))
        return web.json_response({"delay": fake.delay})

    async def clear(request: web.Request) -> web.Response:
        fake.clear()
        return web.json_response({"ok": True})

    control.router.add_get("/_stats", get_stats)
    control.router.add_post("/_delay", set_delay)
    control.router.add_post("/_clear", clear)
    runner = web.AppRunner(control, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    print(fake.base, flush=True)  # the parent reads the API's address from the first line
    await asyncio.Event().wait()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True, help="port of the control endpoints")
    asyncio.run(run(parser.parse_args().port))


if __name__ == "__main__":
    main()
