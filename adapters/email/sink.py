"""The e-mail side of delivery: outbox rows of platform "email" become messages handed to the SMTP server.

Delivery guarantee. A letter is sent at least once and, barring a crash in one narrow window, exactly
once: before sending, the sink looks in the record for this send's outcome (a send whose acceptance was
already recorded is not sent again); right after the server accepts it, the acceptance is recorded. If
the process dies between the server's "250 OK" and that record, the outbox row's lease runs out and
the letter is sent once more: the copy is byte-for-byte the same message with the same Message-ID
(and, for meetings, the same calendar UID), so mail systems and people can recognise it as a resend.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from email.message import EmailMessage
from typing import Any

from bot.domain import Notice
from bot.errors import InvalidInput, PermanentDeliveryError, StorageUnavailable, TemporaryDeliveryError
from bot.mailing import Mailbox, OutgoingMail
from bot.ports import Attempt, NoticeSink, Outbox
from bot.service import IntakeService, email_outcome

from .message import build_message
from .smtp import SendResult, SmtpConfig, send_message

log = logging.getLogger("intake.email")

PLATFORM = "email"
LETTER_KINDS = ("letter_email",)

Transport = Callable[[SmtpConfig, EmailMessage], Awaitable[SendResult]]


@dataclass(frozen=True)
class EmailConfig:
    """SMTP_URL and INTAKE_MAIL_FROM, parsed and checked."""

    smtp: SmtpConfig
    sender: Mailbox


class EmailSink(NoticeSink):
    platform = PLATFORM

    def __init__(
        self,
        service: IntakeService,
        config: EmailConfig,
        *,
        transport: Transport = send_message,
        give_up_after: timedelta = timedelta(hours=23),
    ) -> None:
        self.service = service
        self.config = config
        self.transport = transport
        # Shorter than the outbox's own limit (a day), so the letter itself shows why it never went.
        self.give_up_after = give_up_after

    async def deliver(self, notice: Notice, *, outbox: Outbox, attempt: Attempt | None = None) -> dict[str, Any] | None:
        mail = OutgoingMail.from_dict(notice.data["mail"])
        letter = notice.kind in LETTER_KINDS and notice.ref is not None
        try:
            msg = build_message(mail, sender=self.config.sender)
        except InvalidInput as exc:
            await self._failed(notice, mail, str(exc), letter)
            raise PermanentDeliveryError(str(exc)) from None
        mid = str(msg["Message-ID"])
        if letter:
            assert notice.ref is not None
            rec = await self.service.get_request(notice.ref)
            outcome = email_outcome(rec, mail.token)
            if outcome == "sent":
                # An earlier attempt got through and was recorded; only the outbox row was left open.
                return {"message_id": mid, "already_sent": True}
            if outcome == "failed":
                raise PermanentDeliveryError(
                    rec.letter.send_error if rec.letter and rec.letter.send_error else "failed"
                )
        try:
            result = await self.transport(self.config.smtp, msg)
        except PermanentDeliveryError as exc:
            await self._failed(notice, mail, str(exc), letter)
            raise
        except TemporaryDeliveryError as exc:
            waited = self.service.clock.now() - mail.date
            if waited > self.give_up_after:
                hours = int(waited.total_seconds() // 3600)
                reason = f"Gave up after trying for {hours} hours; the last answer was: {exc}"
                await self._failed(notice, mail, reason, letter)
                raise PermanentDeliveryError(reason) from None
            raise
        log.info(
            "email: %s %s accepted by %s as %s",
            notice.kind,
            notice.ref or notice.project,
            self.config.smtp.describe(),
            mid,
        )
        if letter:
            assert notice.ref is not None
            to = {m.address.lower() for m in mail.recipients.to}
            missed = {a: why for a, why in result.refused.items() if a.lower() in to}
            if missed:
                # Only the copies went out: for the client the letter was not delivered.
                detail = "; ".join(f"{a}: {why}" for a, why in missed.items())
                reason = f"The mail server refused the recipient ({detail}); only the copies went out."
                await self._failed(notice, mail, reason, letter)
                raise PermanentDeliveryError(reason)
            await self._record_sent(notice.ref, mail.token, mid, result.refused)
        return {"message_id": mid, "accepted": result.accepted, "refused": result.refused, "response": result.response}

    async def _record_sent(self, ref: str, token: str, mid: str, refused: dict[str, str]) -> None:
        # The server has the message: try hard to record it, since a failed record means a resend later.
        for attempt in range(5):
            try:
                await self.service.record_email_sent(ref, send_id=token, message_id=mid, refused=refused or None)
                return
            except StorageUnavailable:
                if attempt == 4:
                    raise
                await asyncio.sleep(0.5 * 2**attempt)

    async def _failed(self, notice: Notice, mail: OutgoingMail, reason: str, letter: bool) -> None:
        log.error("email: %s %s failed for good: %s", notice.kind, notice.ref or notice.project, reason)
        if letter and notice.ref is not None:
            await self.service.record_email_failed(notice.ref, send_id=mail.token, reason=reason)
