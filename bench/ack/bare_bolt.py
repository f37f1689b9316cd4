"""The floor: a bolt AsyncApp in its default mode that only acknowledges `/request`, on aiohttp, with the
same signature check and the same bolt-on-aiohttp mounting as `intake serve`.

    python -m bench.ack.bare_bolt --port PORT --api-url URL
"""

from __future__ import annotations

import argparse
import asyncio
import os

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient


def build(api_url: str) -> web.Application:
    bolt = AsyncApp(
        client=AsyncWebClient(token=os.environ["SLACK_BOT_TOKEN"], base_url=api_url),
        signing_secret=os.environ["SLACK_SIGNING_SECRET"],
    )

    @bolt.command("/request")
    async def only_ack(ack):  # type: ignore[no-untyped-def]
        await ack()

    async def events(request: web.Request) -> web.StreamResponse:
        return await to_aiohttp_response(await bolt.async_dispatch(await to_bolt_request(request)))

    async def healthz(request: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    app = web.Application()
    app.router.add_post("/slack/events", events)
    app.router.add_get("/healthz", healthz)
    return app


async def run(port: int, api_url: str) -> None:
    runner = web.AppRunner(build(api_url), access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    await asyncio.Event().wait()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--api-url", required=True)
    args = parser.parse_args()
    asyncio.run(run(args.port, args.api_url))


if __name__ == "__main__":
    main()
