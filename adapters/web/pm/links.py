"""One-time sign-in links: made for an e-mail address, good for 15 minutes, used once. Only the hash of a
link's token is kept, so the database alone cannot sign anyone in."""

from __future__ import annotations

from datetime import datetime, timedelta
from email.message import EmailMessage
from urllib.parse import quote

from bot.domain import Actor, Language
from bot.mailing import Mailbox, check_header_text
from bot.ports import WebAccess
from bot.text import t

from .core import PREFIX, digest, new_token

LINK_LIFETIME = timedelta(minutes=15)
WEB = "web"  # the platform of people known by a sign-in link (their e-mail is who they are)


def link_actor(email: str) -> Actor:
    email = email.strip().lower()
    return Actor(WEB, email, email=email)


async def new_signin_link(store: WebAccess, email: str, *, now: datetime, base_url: str) -> str:
    """Make a link that signs `email` in once, within `LINK_LIFETIME`."""
    token = new_token()
    await store.add_signin_link(digest(token), email.strip().lower(), at=now, expires_at=now + LINK_LIFETIME)
    return f"{base_url.rstrip('/')}{PREFIX}/signin/link?token={quote(token)}"


def signin_mail(*, to: str, link: str, sender: Mailbox, lang: Language) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = str(sender)
    msg["To"] = check_header_text(to, "The address")
    msg["Subject"] = t(lang, "web.mail.subject")
    msg.set_content(t(lang, "web.mail.body", link=link, minutes=int(LINK_LIFETIME.total_seconds() // 60)))
    return msg
