"""Run the server: `intake serve`. Stops gracefully on SIGTERM or Ctrl-C."""

from __future__ import annotations

import asyncio
import logging
import signal

from aiohttp import web

from adapters.logsetup import configure as configure_logging
from adapters.settings import Settings

from .app import ENABLED, create_app

log = logging.getLogger("intake.serve")


async def serve(settings: Settings, *, host: str, port: int, announce: bool = True) -> None:
    """Serve until SIGTERM/SIGINT: stop taking requests, finish in-flight handlers and the outbox row
    being delivered, close the database."""
    configure_logging(settings.log_format, settings.log_level)
    app = create_app(settings)
    runner = web.AppRunner(app, handle_signals=False, shutdown_timeout=20.0, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    if announce:
        enabled = app[ENABLED]
        on = ", ".join(enabled) if enabled else "none (set SLACK_* or MICROSOFT_APP_ID; see the README)"
        print(f"intake-bot listening on http://{host}:{port}  platforms: {on}", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        log.info("shutting down")
        await runner.cleanup()
