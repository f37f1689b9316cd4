"""What every chat adapter offers next to a letter: the recipient check, "Send email" and "Download .eml".

Slack, Teams and the terminal call these, so the three behave alike:

1. `await service.letter_email_recipients(ref, actor=pm, recipients=typed_or_None)`: show the result's
   `summary()` and ask the PM to confirm.
2. `await service.send_letter_email(ref, actor=pm, recipients=typed_or_None, again=False)`: queues it; then
   `wake_dispatcher(app)`. The letter's `status` (queued / sent / failed) and `send_error` tell the outcome;
   `send_status_line(letter)` says it in one line.
3. `await letter_eml(service, ref, actor=pm, sender=eml_sender(settings))`: (file name, bytes) to offer.
"""

from __future__ import annotations

from bot.domain import Actor
from bot.mailing import Mailbox
from bot.service import IntakeService

from .message import build_message


async def letter_eml(
    service: IntakeService, ref: str, *, actor: Actor | None, sender: Mailbox, recipients: list[str] | None = None
) -> tuple[str, bytes]:
    """Return the letter as an .eml file: a file name and the RFC 5322 bytes."""
    mail = await service.letter_email_draft(ref, actor=actor, recipients=recipients)
    msg = build_message(mail, sender=sender)
    return f"{(mail.ref or mail.project)}.eml", msg.as_bytes()
