"""E-mail settings: SMTP_URL and INTAKE_MAIL_FROM, checked together at start."""

from __future__ import annotations

from adapters.settings import ConfigError, Settings
from bot.errors import InvalidInput
from bot.mailing import Mailbox

from .message import parse_mail_from
from .sink import EmailConfig
from .smtp import parse_smtp_url


def email_config(settings: Settings) -> EmailConfig | None:
    """Return the e-mail configuration, or None when SMTP_URL is not set. Raise ConfigError on a partial one."""
    if not settings.smtp_url:
        return None
    smtp = parse_smtp_url(settings.smtp_url)
    settings.check_secret("The password in SMTP_URL", smtp.password)
    if not settings.mail_from:
        raise ConfigError(
            "SMTP_URL is set, so INTAKE_MAIL_FROM is needed too: the sender of letters, "
            "e.g. INTAKE_MAIL_FROM='Acme Projects <projects@acme.example>'."
        )
    return EmailConfig(smtp=smtp, sender=mail_from(settings.mail_from))


def mail_from(value: str) -> Mailbox:
    try:
        return parse_mail_from(value)
    except InvalidInput as exc:
        raise ConfigError(f"INTAKE_MAIL_FROM is not usable: {exc}") from None


def eml_sender(settings: Settings) -> Mailbox:
    """The From of a downloaded .eml: INTAKE_MAIL_FROM when set (sending or not), else a neutral local one."""
    if settings.mail_from:
        return mail_from(settings.mail_from)
    return Mailbox("intake-bot@localhost", "intake-bot")
