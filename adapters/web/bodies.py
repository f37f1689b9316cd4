"""Reading request bodies that anyone can send: JSON nested no deeper than any platform nests it.

`json.loads` itself gives up on deeply nested input with a `RecursionError` (not a `ValueError`), and
input nested a few hundred levels deep parses but then exhausts the stack of whatever walks it later
(the SDKs' deserializers, `copy.deepcopy`, the JSON columns). Slack's and Teams' payloads nest about a
dozen levels; anything past `MAX_DEPTH` is refused as unreadable before any code walks it.
"""

from __future__ import annotations

import json
from typing import Any

MAX_DEPTH = 64


class Unreadable(ValueError):
    """The body is not JSON this server reads; the message says why."""


def loads(text: str | bytes, *, max_depth: int = MAX_DEPTH) -> Any:
    """Parse JSON, refusing (with `Unreadable`) text that is not JSON or is nested past `max_depth`."""
    try:
        value = json.loads(text)
    except RecursionError:
        raise Unreadable(f"the JSON is nested more than {max_depth} levels deep") from None
    except UnicodeDecodeError:
        raise Unreadable("the body is not UTF-8") from None
    except ValueError as exc:
        raise Unreadable(f"the body is not valid JSON ({exc})") from None
    if depth_over(value, max_depth):
        raise Unreadable(f"the JSON is nested more than {max_depth} levels deep")
    return value


def depth_over(value: Any, max_depth: int) -> bool:
    """Whether `value` (parsed JSON) nests lists and objects more than `max_depth` levels deep. Walks
    with a stack of its own, so any depth is measured without recursion."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children: Any = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        if depth > max_depth:
            return True
        stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return False
