"""E-mail as a platform of the server: on when SMTP_URL is set. It adds no routes: it delivers the
outbox's "email" rows and sends each project's scheduled client update."""

from __future__ import annotations

from collections.abc import AsyncIterator

from aiohttp import web

from adapters.settings import Settings
from adapters.web.keys import RUNTIME, SINK_FACTORIES, Platform, wake_dispatcher

from .config import email_config
from .schedule import DigestScheduler
from .sink import EmailConfig, EmailSink

EMAIL = web.AppKey("email_config", EmailConfig)
SCHEDULER = web.AppKey("digest_scheduler", DigestScheduler)


def email_for(app: web.Application) -> EmailConfig | None:
    """The e-mail settings when sending is on in this app (chat adapters show "Send email" only then)."""
    return app.get(EMAIL)


def enabled(settings: Settings) -> bool:
    return email_config(settings) is not None


def mount(app: web.Application, settings: Settings) -> None:
    config = email_config(settings)
    assert config is not None
    app[EMAIL] = config

    def sink(app: web.Application) -> EmailSink:
        return EmailSink(app[RUNTIME].service, config)

    app[SINK_FACTORIES].append(sink)
    app.cleanup_ctx.append(_scheduler_ctx)


async def _scheduler_ctx(app: web.Application) -> AsyncIterator[None]:
    rt = app[RUNTIME]
    scheduler = DigestScheduler(rt.service, rt.store, on_queued=lambda: wake_dispatcher(app))
    app[SCHEDULER] = scheduler
    scheduler.start()
    try:
        yield
    finally:
        await scheduler.stop()


PLATFORM = Platform("email", enabled, mount)
