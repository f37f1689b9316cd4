"""The Slack Web API client, with Slack's rate limits honoured per method for the whole workspace.

Slack rate-limits each Web API method per workspace: a 429 on `chat.postMessage` says how long
(`Retry-After`) every further `chat.postMessage` of this app in this workspace will be refused, while
other methods go on. `RateLimits` keeps those pauses (one token is one workspace), and `PacedWebClient`
consults it before every call: during a pause a call of that method is refused here, at once, with
`MethodPaused` (no request leaves), and calls of other methods go ahead.

The outbox posts with a client of its own that never repeats a call by itself: the SDK's default
handler sends a call again once when its connection breaks, which for `chat.postMessage` can post a
card twice. The outbox retries instead, looking for the message first (see sink.py).
"""

from __future__ import annotations

import time
from typing import Any

from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.web.async_slack_response import AsyncSlackResponse

from .translate import retry_after_seconds

DEFAULT_PAUSE = 30.0  # seconds, when Slack says 429 without a Retry-After
LONGEST_PAUSE = 3600.0  # a Retry-After larger than an hour is taken as an hour


class MethodPaused(SlackClientError):
    """A call refused here because Slack asked for a pause of its method; `retry_after` is what is left."""

    def __init__(self, method: str, retry_after: float) -> None:
        super().__init__(f"Slack asked for a pause of {method}: {retry_after:.1f}s left")
        self.method = method
        self.retry_after = retry_after


class RateLimits:
    """The pauses Slack asked for, per Web API method, in this process (monotonic deadlines)."""

    def __init__(self) -> None:
        self.until: dict[str, float] = {}

    def left(self, method: str) -> float:
        """Seconds the pause of `method` still runs; 0 when there is none."""
        until = self.until.get(method)
        if until is None:
            return 0.0
        left = until - time.monotonic()
        if left <= 0:
            self.until.pop(method, None)
            return 0.0
        return left

    def pause(self, method: str, seconds: float | None) -> float:
        """Pause `method` for `seconds` (Slack's Retry-After); return the pause taken."""
        seconds = DEFAULT_PAUSE if seconds is None else min(max(seconds, 0.0), LONGEST_PAUSE)
        self.until[method] = max(self.until.get(method, 0.0), time.monotonic() + seconds)
        return seconds


def is_rate_limited(exc: SlackApiError) -> bool:
    resp = exc.response
    status = getattr(resp, "status_code", 0) or 0
    try:
        error = str(resp.get("error") or "")
    except (AttributeError, TypeError, ValueError):
        error = ""
    return status == 429 or error == "ratelimited"


class PacedWebClient(AsyncWebClient):
    """An `AsyncWebClient` that honours Slack's per-method pauses (shared through `limits`)."""

    def __init__(self, *args: Any, limits: RateLimits, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.limits = limits

    async def api_call(self, api_method: str, **kwargs: Any) -> AsyncSlackResponse:  # type: ignore[override]
        left = self.limits.left(api_method)
        if left > 0:
            raise MethodPaused(api_method, left)
        try:
            return await super().api_call(api_method, **kwargs)
        except SlackApiError as exc:
            if is_rate_limited(exc):
                self.limits.pause(api_method, retry_after_seconds(getattr(exc.response, "headers", None)))
            raise
