"""The aiohttp application factory: one app serves every platform, health checks and the outbox.

Platforms plug in through `PLATFORMS`: each entry says whether the settings switch it on and mounts its
routes and its notice sink. Resources live on the app (`web.AppKey`), never in module globals, so
`create_app()` can be built many times in one test run and shuts down cleanly.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta

from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError

from adapters.runtime import Runtime, open_runtime
from adapters.settings import Settings
from bot.errors import StorageUnavailable
from bot.modeljobs import ModelJobSink, model_dispatcher
from bot.outbox import PRUNE_EVERY, Dispatcher, prune_outbox
from bot.ports import Clock
from bot.scope import ScopeChecker
from bot.timekeeping import Timekeeper

from .keys import (
    DISPATCHER,
    ENABLED,
    MODEL_DISPATCHER,
    OPTIONS,
    PACER,
    RUNTIME,
    SETTINGS,
    SINK_FACTORIES,
    TIMEKEEPER,
    Platform,
    SinkFactory,
    wake_dispatcher,
)
from .metrics import setup_metrics
from .pace import Pacer

log = logging.getLogger("intake.web")

MAX_BODY = 1024 * 1024  # 1 MiB: larger bodies get 413

__all__ = [
    "DISPATCHER",
    "ENABLED",
    "MODEL_DISPATCHER",
    "OPTIONS",
    "PACER",
    "RUNTIME",
    "SETTINGS",
    "SINK_FACTORIES",
    "TIMEKEEPER",
    "Platform",
    "SinkFactory",
    "create_app",
    "wake_dispatcher",
]


def platforms() -> list[Platform]:
    """The platforms this build knows. Imported lazily so a platform's SDK loads only when it is used."""
    found: list[Platform] = []
    for module_name in ("adapters.slack.platform", "adapters.teams.platform", "adapters.email.platform"):
        try:
            module = __import__(module_name, fromlist=["PLATFORM"])
        except ModuleNotFoundError as exc:
            if exc.name and module_name.startswith(exc.name):
                continue  # that adapter is not part of this build
            raise
        found.append(module.PLATFORM)
    return found


class MalformedHttpNote(logging.Filter):
    """aiohttp logs a request it cannot even parse (a header line over 8 KiB, a broken request line) as an
    error with a traceback, and answers 400. Anyone can send those: make each one line, without the
    traceback, like every other refused request."""

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        if isinstance(exc, HttpProcessingError) and 400 <= (exc.code or 400) < 500:
            reason = str(exc.message or type(exc).__name__).splitlines()[0][:200]
            record.msg, record.args = "refused a malformed HTTP request (%s): %s", (exc.code, reason)
            record.exc_info, record.exc_text = None, None
            record.levelno, record.levelname = logging.INFO, "INFO"
        return True


def _quiet_malformed_http() -> None:
    server_log = logging.getLogger("aiohttp.server")
    if not any(isinstance(f, MalformedHttpNote) for f in server_log.filters):
        server_log.addFilter(MalformedHttpNote())


def create_app(
    settings: Settings,
    *,
    runtime: Runtime | None = None,
    clock: Clock | None = None,
    checker: ScopeChecker | None = None,
    migrate: bool = True,
    dispatch: bool = True,
    poll_interval: float = 0.25,
) -> web.Application:
    """Build the application. With `runtime`, use that store and service instead of opening one. With
    `dispatch`, the process delivers the outbox and runs the scheduled steps (reminders, summaries…)."""
    if runtime is None and checker is None:
        from adapters.llm import model_judge

        checker = model_judge(settings)  # None unless a language model is configured
    _quiet_malformed_http()
    app = web.Application(client_max_size=MAX_BODY)
    app[SETTINGS] = settings
    app[SINK_FACTORIES] = []
    app[OPTIONS] = {"clock": clock, "checker": checker, "migrate": migrate, "poll_interval": poll_interval}
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    setup_metrics(app)
    app[PACER] = Pacer()
    app.middlewares.append(app[PACER].middleware)

    from .pm import mount as mount_web_app

    mount_web_app(app)
    enabled = [p for p in platforms() if p.enabled(settings)]
    app[ENABLED] = [p.name for p in enabled]
    app.cleanup_ctx.append(_runtime_ctx(runtime))
    for p in enabled:
        p.mount(app, settings)
    if dispatch:
        app.cleanup_ctx.append(_dispatcher_ctx)
        app.cleanup_ctx.append(_timekeeper_ctx)
        app.cleanup_ctx.append(_pruner_ctx)
    return app


def _runtime_ctx(given: Runtime | None) -> Callable[[web.Application], AsyncIterator[None]]:
    async def ctx(app: web.Application) -> AsyncIterator[None]:
        if given is not None:
            app[RUNTIME] = given
            yield
            return
        opts = app[OPTIONS]
        rt = await open_runtime(
            app[SETTINGS].db_url, migrate=opts["migrate"], checker=opts["checker"], clock=opts["clock"]
        )
        app[RUNTIME] = rt
        try:
            yield
        finally:
            await rt.close()

    return ctx


async def _dispatcher_ctx(app: web.Application) -> AsyncIterator[None]:
    sinks = [factory(app) for factory in app[SINK_FACTORIES]]
    rt = app[RUNTIME]
    poll = app[OPTIONS]["poll_interval"]
    dispatchers = []
    if rt.service.model is not None:
        # The language model's questions have a dispatcher of their own, asking several at a time: an
        # answer takes seconds, and cards and messages must not wait behind it. It is woken when a request
        # is recorded here; the poll only finds questions other processes left.
        model = model_dispatcher(rt.service, poll_interval=max(poll, 1.0), pace=app[PACER].wait)
        app[MODEL_DISPATCHER] = model
        dispatchers.append(model)
    else:
        # Without a model, questions queued while it was on are answered "switched off", in passing.
        sinks.append(ModelJobSink(rt.service))
    dispatcher = Dispatcher(
        rt.store, sinks, poll_interval=poll, turn=app[PACER].turn, concurrency=app[SETTINGS].outbox_concurrency
    )
    app[DISPATCHER] = dispatcher
    dispatchers.insert(0, dispatcher)
    tasks = [asyncio.create_task(d.run_forever(), name=f"outbox-dispatcher-{i}") for i, d in enumerate(dispatchers)]
    try:
        yield
    finally:
        for d in dispatchers:
            d.stop()
        # The rows being delivered are finished; the rest stays queued for the next start.
        for task in tasks:
            try:
                await asyncio.wait_for(task, timeout=30)
            except TimeoutError:
                task.cancel()


async def _timekeeper_ctx(app: web.Application) -> AsyncIterator[None]:
    """Run the scheduled steps that fall due (every process may: each step is claimed by one), and wake
    this process's dispatcher when they queued notices."""
    timekeeper = Timekeeper(app[RUNTIME].service, on_work=lambda: wake_dispatcher(app), platforms=app[ENABLED])
    app[TIMEKEEPER] = timekeeper
    timekeeper.start(app[SETTINGS].schedule_interval)
    try:
        yield
    finally:
        await timekeeper.stop()  # the step being run is finished; the rest waits for the next start


async def _pruner_ctx(app: web.Application) -> AsyncIterator[None]:
    """Prune delivered outbox rows older than INTAKE_OUTBOX_KEEP_DAYS, now and every `PRUNE_EVERY`
    seconds, in small batches (any process may: a row is deleted once)."""
    keep = timedelta(days=app[SETTINGS].outbox_keep_days)

    async def run() -> None:
        while True:
            try:
                n = await prune_outbox(app[RUNTIME].store, keep=keep, now=datetime.now(UTC))
                if n:
                    log.info("outbox: pruned %d delivered notices older than %s days", n, keep.days)
            except StorageUnavailable as exc:
                log.warning("outbox: not pruned: %s", exc)
            except Exception:
                log.exception("outbox: pruning failed")
            await asyncio.sleep(PRUNE_EVERY)

    task = asyncio.create_task(run(), name="outbox-pruner")
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def healthz(request: web.Request) -> web.Response:
    """The process is up."""
    return web.json_response({"status": "ok"})


async def readyz(request: web.Request) -> web.Response:
    """The process can do its work: the database answers."""
    try:
        await request.app[RUNTIME].store.ping()
    except StorageUnavailable as exc:
        return web.json_response({"status": "unavailable", "reason": str(exc)}, status=503)
    return web.json_response({"status": "ready", "platforms": request.app[ENABLED]})
