"""The letter as an .eml file the PM can open in their mail program and send.

Kept small on purpose: `build_eml` is the one function to replace when the e-mail adapter offers a
full RFC 5322 builder (calendar invites, CC from the project file, Message-ID from the mail domain).
"""

from __future__ import annotations

import re
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from typing import Any

from bot.domain import Letter, Project

_SAFE = re.compile(r"[^A-Za-z0-9._-]+")


def _one_line(text: str) -> str:
    if "\r" in text or "\n" in text:
        raise ValueError("a header value must be one line")
    return text


def eml_filename(ref: str) -> str:
    return f"{_SAFE.sub('-', ref).strip('-') or 'letter'}.eml"


def build_eml(letter: Letter, project: Project, *, sender: Address | None = None, when: Any = None) -> bytes:
    """Render the letter as an unsent message (`X-Unsent: 1`) addressed to the project's client contact."""
    msg = EmailMessage()
    msg["Subject"] = _one_line(letter.subject)
    msg["To"] = Address(display_name=_one_line(project.client.contact), addr_spec=_one_line(project.client.email))
    if sender is not None:
        msg["From"] = sender
    if project.cc:
        msg["Cc"] = ", ".join(_one_line(c) for c in project.cc)
    if when is not None:
        msg["Date"] = format_datetime(when)
    msg["Message-ID"] = make_msgid(domain="intake-bot.local")
    msg["X-Unsent"] = "1"  # mail programs open it as a draft to send
    msg.set_content(letter.body_text, charset="utf-8")
    if letter.body_html:
        msg.add_alternative(letter.body_html, subtype="html", charset="utf-8")
    return bytes(msg)
