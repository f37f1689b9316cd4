"""SMTP delivery with aiosmtplib: the URL form of the settings, and SMTP answers turned into core errors.

Temporary trouble (4xx answers, a refused or dropped connection, a timeout) becomes
`TemporaryDeliveryError`, so the outbox retries with backoff; a permanent refusal (5xx, a refused
address) becomes `PermanentDeliveryError` with the server's own words as the reason.
"""

from __future__ import annotations

import ssl
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import aiosmtplib

from adapters.settings import ConfigError
from bot.errors import PermanentDeliveryError, TemporaryDeliveryError

from .message import envelope

TRUE = {"1", "true", "yes", "on"}
FALSE = {"0", "false", "no", "off"}


@dataclass(frozen=True)
class SmtpConfig:
    hostname: str
    port: int
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    use_tls: bool = False  # smtps://: TLS from the first byte
    start_tls: bool | None = None  # None: upgrade when the server offers STARTTLS
    timeout: float = 30.0
    validate_certs: bool = True

    def describe(self) -> str:
        """Where mail goes, for logs and messages (never the password)."""
        scheme = "smtps" if self.use_tls else "smtp"
        user = f"{self.username}@" if self.username else ""
        return f"{scheme}://{user}{self.hostname}:{self.port}"


def parse_smtp_url(url: str) -> SmtpConfig:
    """Parse SMTP_URL: smtp://user:pass@host:587?starttls=true, smtps://user:pass@host:465, smtp://127.0.0.1:1025.

    Query options: `starttls=true|false` (default: use it when offered), `timeout=SECONDS`,
    `verify=false` (accept a self-signed certificate; for a local test server only).
    """
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError as exc:
        raise ConfigError(f"SMTP_URL is not a valid URL ({exc}).") from None
    if parts.scheme not in ("smtp", "smtps"):
        raise ConfigError(
            "SMTP_URL must start with smtp:// or smtps://, e.g. smtp://user:password@mail.example.com:587?starttls=true."
        )
    if not parts.hostname:
        raise ConfigError("SMTP_URL names no mail server host, e.g. smtp://127.0.0.1:1025.")
    query = {k: v[-1].strip().lower() for k, v in parse_qs(parts.query).items()}
    unknown = set(query) - {"starttls", "timeout", "verify"}
    if unknown:
        raise ConfigError(
            f"SMTP_URL has unknown options: {', '.join(sorted(unknown))} (known: starttls, timeout, verify)."
        )
    use_tls = parts.scheme == "smtps"
    start_tls: bool | None = None
    if "starttls" in query:
        if query["starttls"] not in TRUE | FALSE:
            raise ConfigError("SMTP_URL: starttls must be true or false.")
        start_tls = query["starttls"] in TRUE
        if use_tls and start_tls:
            raise ConfigError("SMTP_URL: smtps:// is already encrypted; drop ?starttls=true (or use smtp://…:587).")
    if use_tls:
        start_tls = False
    timeout = 30.0
    if "timeout" in query:
        try:
            timeout = float(query["timeout"])
        except ValueError:
            raise ConfigError("SMTP_URL: timeout must be a number of seconds.") from None
        if not 1 <= timeout <= 120:
            raise ConfigError("SMTP_URL: timeout must be between 1 and 120 seconds.")
    verify = query.get("verify", "true")
    if verify not in TRUE | FALSE:
        raise ConfigError("SMTP_URL: verify must be true or false.")
    return SmtpConfig(
        hostname=parts.hostname,
        port=port or (465 if use_tls else 25),
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password else None,
        use_tls=use_tls,
        start_tls=start_tls,
        timeout=timeout,
        validate_certs=verify in TRUE,
    )


@dataclass(frozen=True)
class SendResult:
    accepted: list[str]
    refused: dict[str, str]  # some recipients refused while others were accepted
    response: str


async def send_message(config: SmtpConfig, msg: EmailMessage) -> SendResult:
    """Hand one message to the mail server. Raise Temporary/PermanentDeliveryError on failure."""
    sender, recipients = envelope(msg)
    where = config.describe()
    try:
        errors, response = await aiosmtplib.send(
            msg,
            sender=sender,
            recipients=recipients,
            hostname=config.hostname,
            port=config.port,
            username=config.username,
            password=config.password,
            use_tls=config.use_tls,
            start_tls=config.start_tls,
            timeout=config.timeout,
            validate_certs=config.validate_certs,
        )
    except aiosmtplib.SMTPRecipientsRefused as exc:
        detail = "; ".join(f"{r.recipient}: {r.code} {r.message}" for r in exc.recipients)
        if exc.recipients and all(r.code >= 500 for r in exc.recipients):
            raise PermanentDeliveryError(f"The mail server refused every recipient ({detail}).") from None
        raise TemporaryDeliveryError(f"The mail server did not accept the recipients for now ({detail}).") from None
    except aiosmtplib.SMTPResponseException as exc:
        what = _what_failed(exc)
        if exc.code >= 500:
            raise PermanentDeliveryError(
                f"The mail server at {where} refused {what}: {exc.code} {exc.message}"
            ) from None
        raise TemporaryDeliveryError(f"The mail server at {where} deferred {what}: {exc.code} {exc.message}") from None
    except aiosmtplib.SMTPNotSupported as exc:
        raise PermanentDeliveryError(f"The mail server at {where} cannot do what SMTP_URL asks: {exc}") from None
    except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
        # Refused or dropped connections, DNS trouble, timeouts, TLS handshakes that failed midway.
        reason = str(exc) or type(exc).__name__
        if isinstance(exc, ssl.SSLCertVerificationError):
            raise PermanentDeliveryError(
                f"The mail server at {where} has a certificate we cannot trust: {reason}"
            ) from None
        raise TemporaryDeliveryError(f"Cannot reach the mail server at {where}: {reason}") from None
    refused = {addr: f"{r.code} {r.message}" for addr, r in (errors or {}).items()}
    return SendResult([r for r in recipients if r not in refused], refused, str(response))


def _what_failed(exc: Any) -> str:
    if isinstance(exc, aiosmtplib.SMTPAuthenticationError):
        return "the login (check the user and password in SMTP_URL)"
    if isinstance(exc, aiosmtplib.SMTPSenderRefused):
        return f"the sender {exc.sender} (check INTAKE_MAIL_FROM)"
    if isinstance(exc, aiosmtplib.SMTPRecipientRefused):
        return f"the recipient {exc.recipient}"
    if isinstance(exc, aiosmtplib.SMTPDataError):
        return "the message"
    return "the connection"
