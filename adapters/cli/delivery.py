"""What the letter and digest commands share: who acts from the command line, and delivering e-mail now."""

from __future__ import annotations

from email.utils import parseaddr
from typing import Any

from adapters.email.config import email_config
from adapters.email.sink import EmailConfig, EmailSink
from adapters.runtime import Runtime
from adapters.settings import ConfigError, Settings
from bot.domain import Actor, Notice, RequestRecord
from bot.errors import InvalidInput
from bot.mailing import declining_pm
from bot.outbox import Dispatcher
from bot.ports import Attempt, NoticeSink, Outbox


def require_email(settings: Settings) -> EmailConfig:
    config = email_config(settings)
    if config is None:
        raise ConfigError(
            "SMTP_URL is not set, so nothing can be e-mailed. Set SMTP_URL and INTAKE_MAIL_FROM (see the README's "
            "Email section), or save the letter with `intake letter eml REF > letter.eml` and send it yourself."
        )
    return config


def cli_actor(as_who: str | None, rec: RequestRecord) -> Actor:
    """The PM acting from the command line: `--as EMAIL`, or else the PM who declined the request."""
    if as_who:
        name, address = parseaddr(as_who)
        if "@" not in address:
            raise InvalidInput(f"--as '{as_who}' is not an e-mail address.")
        return Actor("cli", address.lower(), email=address.lower(), name=name or None)
    pm = declining_pm(rec)
    if pm is None:
        raise InvalidInput(f"{rec.ref} has not been declined; say who you are with --as EMAIL.")
    return pm


class WatchingSink(NoticeSink):
    """Wraps the e-mail sink to remember how each delivery went, so the command can say it."""

    platform = "email"

    def __init__(self, inner: EmailSink) -> None:
        self.inner = inner
        self.errors: list[str] = []
        self.results: list[dict[str, Any]] = []

    async def deliver(self, notice: Notice, *, outbox: Outbox, attempt: Attempt | None = None) -> dict[str, Any] | None:
        try:
            result = await self.inner.deliver(notice, outbox=outbox, attempt=attempt)
        except Exception as exc:
            self.errors.append(str(exc) or type(exc).__name__)
            raise
        self.results.append(result or {})
        return result


async def deliver_now(rt: Runtime, config: EmailConfig) -> WatchingSink:
    """Deliver the e-mails that are due now, from this process (a running server would do it too)."""
    sink = WatchingSink(EmailSink(rt.service, config))
    await Dispatcher(rt.store, [sink], clock=rt.service.clock).drain(max_rounds=5)
    return sink
