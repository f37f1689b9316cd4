"""Pure translations between Slack payloads and the core's nouns. No I/O: tested without a server.

Slack sends slash commands as form bodies, clicks as `block_actions`, modal submissions as
`view_submission` (whose inputs sit in `view.state.values[block_id][action_id]`), and events wrapped in
`event_callback`. These functions turn them into core values (a form's values as `bot.forms` reads
them), and core errors into modal errors.
"""

from __future__ import annotations

import json
import re
from typing import Any

from bot.domain import Actor, Source

PLATFORM = "slack"
MAX_METADATA = 3000  # Slack's limit on a view's private_metadata

_SLUG_PREFIX = re.compile(r"^@([a-z0-9][a-z0-9-]{0,62})(?:\s+|$)(.*)$", re.DOTALL)


# --- identities and sources ---------------------------------------------------------------------


def actor_from_user(user_id: str, user: dict[str, Any] | None = None) -> Actor:
    """Build the actor for a Slack user, with the e-mail and name from `users.info` when known."""
    profile = (user or {}).get("profile") or {}
    email = profile.get("email") or None
    name = (
        profile.get("display_name")
        or profile.get("real_name")
        or (user or {}).get("real_name")
        or (user or {}).get("name")
        or None
    )
    locale = (user or {}).get("locale") or None  # present when users.info was asked with include_locale
    return Actor(PLATFORM, user_id, email=email.lower() if email else None, name=name, locale=locale)


def user_id_of(body: dict[str, Any]) -> str:
    """The user who caused a payload: slash commands carry `user_id`, interactions `user.id`, events `event.user`."""
    if "user_id" in body:
        return str(body["user_id"])
    user = body.get("user")
    if isinstance(user, dict) and user.get("id"):
        return str(user["id"])
    event = body.get("event") or {}
    return str(event.get("user", ""))


def command_source(body: dict[str, Any]) -> Source:
    return Source(PLATFORM, channel=body.get("channel_id") or None)


def message_source(channel: str | None, ts: str | None, thread_ts: str | None, permalink: str | None) -> Source:
    """Where a recorded Slack message lives. Replies keep their parent as the thread."""
    return Source(PLATFORM, channel=channel, thread=thread_ts or ts, message_id=ts, permalink=permalink)


def event_key(body: dict[str, Any]) -> str | None:
    """The idempotency key of an Events API delivery (retries carry the same `event_id`)."""
    event_id = body.get("event_id")
    return f"slack:event:{event_id}" if body.get("type") == "event_callback" and event_id else None


# --- slash commands -----------------------------------------------------------------------------


def parse_project_prefix(text: str) -> tuple[str | None, str]:
    """Split `@project-slug rest of text` into the slug and the rest; no prefix gives (None, text)."""
    text = (text or "").strip()
    m = _SLUG_PREFIX.match(text)
    if not m:
        return None, text
    return m.group(1), m.group(2).strip()


# --- modal state --------------------------------------------------------------------------------


def view_values(view: dict[str, Any]) -> dict[str, Any]:
    """Flatten a submitted view's state into {block_id: value}, whatever the input element."""
    out: dict[str, Any] = {}
    for block_id, actions in ((view.get("state") or {}).get("values") or {}).items():
        for element in actions.values():
            out[block_id] = _element_value(element)
    return out


def _element_value(e: dict[str, Any]) -> Any:
    kind = e.get("type")
    if kind in ("static_select", "radio_buttons", "external_select"):
        opt = e.get("selected_option")
        return opt.get("value") if opt else None
    if kind in ("checkboxes", "multi_static_select"):
        return [o.get("value") for o in e.get("selected_options") or []]
    if kind == "datepicker":
        return e.get("selected_date")
    if kind == "datetimepicker":
        value = e.get("selected_date_time")
        return str(value) if value is not None else None  # epoch seconds, as `bot.forms` reads them
    if kind == "users_select":
        return e.get("selected_user")
    return e.get("value")


def dump_metadata(data: dict[str, Any]) -> str:
    """Encode a modal's private_metadata. Only ids go in, so it always fits Slack's 3000 characters."""
    text = json.dumps({k: v for k, v in data.items() if v is not None}, separators=(",", ":"))
    if len(text) > MAX_METADATA:
        raise ValueError("private_metadata is over Slack's 3000-character limit")
    return text


def load_metadata(view: dict[str, Any]) -> dict[str, Any]:
    try:
        data = json.loads(view.get("private_metadata") or "{}")
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def errors_for(errors: dict[str, str], *, blocks: list[str], default: str) -> dict[str, str]:
    """Place form errors beside their fields (block id = field id), or beside `default` when the modal
    has no such field. Slack shows at most 150 characters of a field error (longer ones are refused)."""
    out: dict[str, str] = {}
    for field_id, message in errors.items():
        block = field_id if field_id in blocks else default
        out.setdefault(block, message if len(message) <= 150 else message[:149].rstrip() + "…")
    return out


def retry_after_seconds(headers: Any) -> float | None:
    """Read `Retry-After` from a response's headers (any capitalisation); None when absent or unreadable."""
    if not headers:
        return None
    for k, v in dict(headers).items():
        if str(k).lower() == "retry-after":
            value = v[0] if isinstance(v, list | tuple) else v
            try:
                return max(0.0, float(value))
            except (TypeError, ValueError):
                return None
    return None
