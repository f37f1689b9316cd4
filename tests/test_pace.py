"""Background work lets the server's answers go first, but never waits for ever."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from adapters.web.pace import Pacer

ENTERED = web.AppKey("entered", asyncio.Event)


async def serve(pacer: Pacer, gate: asyncio.Event) -> TestClient:
    async def slow(request: web.Request) -> web.Response:
        request.app[ENTERED].set()
        await gate.wait()
        return web.Response(text="done")

    async def health(request: web.Request) -> web.Response:
        await gate.wait()
        return web.Response(text="ok")

    app = web.Application(middlewares=[pacer.middleware])
    app[ENTERED] = asyncio.Event()
    app.router.add_get("/slow", slow)
    app.router.add_get("/healthz", health)
    client = TestClient(TestServer(app))
    await client.start_server()
    return client


async def test_background_work_waits_for_the_requests_in_flight() -> None:
    pacer, gate = Pacer(quiet=0.05, max_lag=30), asyncio.Event()
    client = await serve(pacer, gate)
    try:
        request = asyncio.create_task(client.get("/slow"))
        await client.app[ENTERED].wait()  # type: ignore[index]
        work = asyncio.create_task(pacer.wait())
        await asyncio.sleep(0.2)
        assert not work.done()  # a request is being answered
        gate.set()
        assert (await request).status == 200
        await asyncio.sleep(0.01)
        assert not work.done()  # and the server has not been quiet for `quiet` seconds yet
        await asyncio.wait_for(work, timeout=1)
        assert pacer.in_flight == 0 and pacer.idle_for() >= 0.05
    finally:
        await client.close()


async def test_work_that_has_waited_long_enough_goes_on_however_busy_the_server() -> None:
    pacer, gate = Pacer(quiet=0.05, max_lag=0.3), asyncio.Event()
    client = await serve(pacer, gate)
    try:
        request = asyncio.create_task(client.get("/slow"))
        await client.app[ENTERED].wait()  # type: ignore[index]
        # Work due long ago goes at once; work due now waits max_lag.
        await asyncio.wait_for(pacer.wait(datetime.now(UTC) - timedelta(seconds=1)), timeout=0.05)
        fresh = asyncio.create_task(pacer.wait(datetime.now(UTC)))
        await asyncio.sleep(0.15)
        assert not fresh.done()
        await asyncio.wait_for(fresh, timeout=1)
        assert pacer.in_flight == 1  # it went while the request was still in flight
        gate.set()
        await request
    finally:
        await client.close()


async def test_background_steps_go_side_by_side_when_quiet_and_one_at_a_time_while_requests_are_answered() -> None:
    pacer, gate = Pacer(quiet=0.05, max_lag=0.1), asyncio.Event()
    client = await serve(pacer, gate)
    running, most = 0, 0

    async def step() -> None:
        nonlocal running, most
        async with pacer.turn(datetime.now(UTC) - timedelta(seconds=1)):  # long due: goes however busy
            running += 1
            most = max(most, running)
            await asyncio.sleep(0.05)
            running -= 1

    try:
        request = asyncio.create_task(client.get("/slow"))
        await client.app[ENTERED].wait()  # type: ignore[index]
        await asyncio.gather(*(step() for _ in range(4)))
        assert most == 1, "while a request is being answered, one step at a time"
        gate.set()
        await request
        await asyncio.sleep(0.1)
        most = 0
        await asyncio.gather(*(step() for _ in range(4)))
        assert most == 4, "in a quiet server, side by side"
    finally:
        await client.close()


async def test_recording_goes_ahead_of_the_rest_of_the_background_work_but_not_of_the_requests() -> None:
    pacer, gate = Pacer(quiet=0.02, max_lag=30), asyncio.Event()
    client = await serve(pacer, gate)
    try:
        with pacer.ahead():
            await asyncio.wait_for(pacer.wait(ahead=True), timeout=1)  # the recording itself goes on
            card = asyncio.create_task(pacer.wait())
            await asyncio.sleep(0.1)
            assert not card.done()  # a review card waits for the recording
            request = asyncio.create_task(client.get("/slow"))
            await client.app[ENTERED].wait()  # type: ignore[index]
            recording = asyncio.create_task(pacer.wait(ahead=True))
            await asyncio.sleep(0.1)
            assert not recording.done()  # the recording waits for the request
            gate.set()
            await request
            await asyncio.wait_for(recording, timeout=1)
            assert not card.done()
        await asyncio.wait_for(card, timeout=1)  # the recording is done: the card goes
        late = Pacer(quiet=0.02, max_lag=0.1)
        with late.ahead():
            await asyncio.wait_for(late.wait(), timeout=1)  # and never waits longer than max_lag
    finally:
        await client.close()


async def test_health_probes_are_not_load() -> None:
    pacer, gate = Pacer(quiet=0.01, max_lag=30), asyncio.Event()
    client = await serve(pacer, gate)
    try:
        probe = asyncio.create_task(client.get("/healthz"))
        await asyncio.sleep(0.05)
        assert pacer.in_flight == 0
        await asyncio.wait_for(pacer.wait(), timeout=1)
        gate.set()
        await probe
    finally:
        await client.close()


def test_the_server_settles_its_memory_so_collections_pause_briefly() -> None:
    import gc

    from adapters.web.serve import settle_memory

    before = gc.get_threshold()
    try:
        settle_memory()
        assert gc.get_freeze_count() > 10_000  # the start-up objects are out of the collector's way
        assert gc.get_threshold()[0] >= 10_000
    finally:
        gc.unfreeze()
        gc.set_threshold(*before)
