"""Check that a signed Slack payload has the shape the handlers rely on, before bolt dispatches it.

Slack itself always sends these shapes; a payload that lacks them (a bug, or someone holding the signing
secret) is refused with 400 and a reason, instead of being acknowledged and then failing in the
background where nobody hears of it. Only what the handlers read is checked: unknown fields are fine,
and payload types the bot does not handle are left to bolt (which answers 404).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Check = Callable[[dict[str, Any]], str | None]

MAX_BUTTON_VALUE = 2000
MAX_OPTION_VALUE = 150
MAX_METADATA = 3000


def _str(body: dict[str, Any], *keys: str, optional: bool = False) -> str | None:
    for key in keys:
        value = body.get(key)
        if value is None and optional:
            continue
        if not isinstance(value, str):
            return f"'{key}' must be a string"
    return None


def _obj(body: dict[str, Any], *keys: str, optional: bool = False) -> str | None:
    for key in keys:
        value = body.get(key)
        if value is None and optional:
            continue
        if not isinstance(value, dict):
            return f"'{key}' must be an object"
    return None


def _user(body: dict[str, Any]) -> str | None:
    user = body.get("user")
    if not isinstance(user, dict) or not isinstance(user.get("id"), str):
        return "'user' must be an object with an 'id'"
    return None


def _where(body: dict[str, Any]) -> str | None:
    return _obj(body, "channel", "container", "message", "team", optional=True)


def _command(body: dict[str, Any]) -> str | None:
    return _str(body, "command", "user_id", "trigger_id", "response_url") or _str(
        body, "text", "channel_id", optional=True
    )


def _block_actions(body: dict[str, Any]) -> str | None:
    actions = body.get("actions")
    if not isinstance(actions, list) or not actions or not all(isinstance(a, dict) for a in actions):
        return "'actions' must be a list of objects"
    if not all(isinstance(a.get("action_id"), str) for a in actions):
        return "every action needs an 'action_id'"
    if any(a.get("value") is not None and not isinstance(a.get("value"), str) for a in actions):
        return "an action's 'value' must be a string"
    # Slack's own limits: a button's value is at most 2,000 characters, an option's 150. Anything longer
    # was not made by Slack, and is never echoed back.
    if any(len(a.get("value") or "") > MAX_BUTTON_VALUE for a in actions):
        return f"an action's 'value' is over {MAX_BUTTON_VALUE} characters"
    for a in actions:
        option = a.get("selected_option")
        if option is not None and not (isinstance(option, dict) and isinstance(option.get("value", ""), str)):
            return "a 'selected_option' must be an object with a string 'value'"
        if option is not None and len(option.get("value") or "") > MAX_OPTION_VALUE:
            return f"a selected option's 'value' is over {MAX_OPTION_VALUE} characters"
    return _user(body) or _where(body) or _obj(body, "view", optional=True) or _str(body, "trigger_id", optional=True)


def _view(body: dict[str, Any]) -> str | None:
    problem = _user(body) or _obj(body, "view")
    if problem:
        return problem
    view = body["view"]
    problem = _str(view, "callback_id") or _str(view, "private_metadata", optional=True)
    if problem:
        return f"in 'view': {problem}"
    if len(view.get("private_metadata") or "") > MAX_METADATA:
        return f"'view.private_metadata' is over {MAX_METADATA} characters"
    state = view.get("state", {"values": {}})
    values = state.get("values") if isinstance(state, dict) else None
    if not isinstance(values, dict):
        return "'view.state.values' must be an object"
    for block in values.values():
        if not isinstance(block, dict) or not all(isinstance(e, dict) for e in block.values()):
            return "every block in 'view.state.values' must map action ids to objects"
        for element in block.values():
            if _obj(element, "selected_option", optional=True):
                return "a 'selected_option' must be an object"
            options = element.get("selected_options")
            if options is not None and not (isinstance(options, list) and all(isinstance(o, dict) for o in options)):
                return "'selected_options' must be a list of objects"
    return None


def _shortcut(body: dict[str, Any]) -> str | None:
    return _user(body) or _str(body, "callback_id", "trigger_id") or _where(body)


def _event(body: dict[str, Any]) -> str | None:
    problem = _obj(body, "event") or _str(body, "event_id")
    if problem:
        return problem
    return _str(body["event"], "type") and "'event' must have a 'type'"


CHECKS: dict[str, Check] = {
    "block_actions": _block_actions,
    "view_submission": _view,
    "view_closed": _view,
    "shortcut": _shortcut,
    "message_action": _shortcut,
    "event_callback": _event,
    "url_verification": lambda body: _str(body, "challenge"),
}


def _common(body: dict[str, Any]) -> str | None:
    """Fields that bolt itself reads from any payload, before a handler is chosen."""
    if "event" in body and not isinstance(body["event"], dict):
        return "'event' must be an object"
    auths = body.get("authorizations")
    if auths is not None and not (isinstance(auths, list) and all(isinstance(a, dict) for a in auths)):
        return "'authorizations' must be a list of objects"
    team = body.get("team")
    if team is not None and not isinstance(team, dict | str):
        return "'team' must be an object"
    return _obj(body, "enterprise", "user", "channel", "container", "message", "view", optional=True)


def shape_problem(body: dict[str, Any]) -> str | None:
    """Return what is wrong with the payload's shape, or None when the handlers can read it."""
    problem = _common(body)
    if problem:
        return problem
    if "command" in body:
        return _command(body)
    if body.get("ssl_check"):
        return None
    kind = body.get("type")
    if not isinstance(kind, str):
        return "the payload has no 'type'"
    check = CHECKS.get(kind)
    return check(body) if check else None
