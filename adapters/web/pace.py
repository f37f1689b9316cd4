"""Acknowledgements first: background work waits while the server is answering requests.

Slack gives an app three seconds to acknowledge and a user watches every acknowledgement; recording an
accepted `/request`, posting its review card or sending a receipt can wait a moment. All of it shares one
event loop, so under a burst of requests each piece of background work would otherwise delay the
acknowledgements queued behind it.

`Pacer` counts the requests in flight (a middleware). Background work calls `await pacer.wait(due)`
before each step: it goes on once no request has been in flight for `QUIET` seconds, or at once when the
work has waited `MAX_LAG` seconds since `due`, so a server that never falls quiet still gets its work
done, one step between acknowledgements. Work that may run several steps at once (the outbox delivers
notices of different requests side by side) takes `async with pacer.turn(due)` instead: in a quiet
server the steps go together, while requests are being answered they go one at a time.

Recording what was acknowledged goes before the rest (the review cards it queues, the language model's
questions): work that runs `with pacer.ahead()` waits only for the requests in flight (`wait(due,
ahead=True)`), and other background work waits for it as it does for requests, within the same
`MAX_LAG`. Under a burst the order is: the acknowledgements, then the recording, then the cards.

Nothing waiting here is only in memory: what was acknowledged is already in the outbox, and another
process records it if this one dies.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from datetime import UTC, datetime

from aiohttp import web

QUIET = 0.02  # seconds with no request in flight before background work goes on
MAX_LAG = 5.0  # seconds background work ever waits for a quiet moment


class Pacer:
    def __init__(self, *, quiet: float = QUIET, max_lag: float = MAX_LAG) -> None:
        self.quiet = quiet
        self.max_lag = max_lag
        self.in_flight = 0
        self.ahead_running = 0  # background work the rest waits for (see `ahead`)
        self._last_busy = 0.0  # monotonic time a request last started or finished
        self._busy_turn: asyncio.Lock | None = None  # one step at a time while requests are answered

    @web.middleware
    async def middleware(
        self, request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        if request.path in ("/healthz", "/readyz", "/metrics"):  # probes are not load
            return await handler(request)
        self.in_flight += 1
        self._last_busy = time.monotonic()
        try:
            return await handler(request)
        finally:
            self.in_flight -= 1
            self._last_busy = time.monotonic()

    def idle_for(self, *, ahead: bool = False) -> float:
        """Seconds since the last request (or, unless `ahead`, work going ahead) finished; 0 while one is
        under way."""
        if self.in_flight or (self.ahead_running and not ahead):
            return 0.0
        return time.monotonic() - self._last_busy

    @contextmanager
    def ahead(self) -> Iterator[None]:
        """Run background work that goes before the rest: while it runs, other background work waits
        for it as for a request in flight (at most `max_lag`)."""
        self.ahead_running += 1
        try:
            yield
        finally:
            self.ahead_running -= 1
            self._last_busy = time.monotonic()

    async def wait(self, due: datetime | None = None, *, ahead: bool = False) -> None:
        """Return when the server is quiet, or when `due` (wall clock, when the work became due; now if
        None) is `max_lag` seconds past. With `ahead` (work under `ahead()`), quiet means no request in
        flight; otherwise also no work going ahead."""
        start = time.monotonic()
        lag = max(0.0, (datetime.now(UTC) - due).total_seconds()) if due is not None else 0.0
        while True:
            idle = self.idle_for(ahead=ahead)
            if idle >= self.quiet:
                return
            left = self.max_lag - lag - (time.monotonic() - start)
            if left <= 0:
                return
            await asyncio.sleep(min(left, self.quiet - idle))

    @asynccontextmanager
    async def turn(self, due: datetime | None = None) -> AsyncIterator[None]:
        """Wait as `wait(due)` does, then hold the turn for one step of background work: alongside other
        steps when the server is quiet, alone while it is answering requests."""
        await self.wait(due)
        if self.idle_for() >= self.quiet:
            yield
            return
        if self._busy_turn is None:
            self._busy_turn = asyncio.Lock()
        async with self._busy_turn:
            yield
