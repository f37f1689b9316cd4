"""What the pieces of the server find on the aiohttp app, and the contract a platform plugs in with.

Resources live on the app under these keys (`web.AppKey`), never in module globals, so `create_app()`
can be built many times in one test run and shuts down cleanly. Platforms import this module, not the
application factory.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from aiohttp import web

from adapters.runtime import Runtime
from adapters.settings import Settings
from bot.outbox import Dispatcher
from bot.ports import NoticeSink
from bot.timekeeping import Timekeeper

from .pace import Pacer

SETTINGS = web.AppKey("settings", Settings)
RUNTIME = web.AppKey("runtime", Runtime)
DISPATCHER = web.AppKey("dispatcher", Dispatcher)
MODEL_DISPATCHER = web.AppKey("model_dispatcher", Dispatcher)  # asks the language model, when one is set
TIMEKEEPER = web.AppKey("timekeeper", Timekeeper)
SINK_FACTORIES = web.AppKey("sink_factories", list)
ENABLED = web.AppKey("enabled_platforms", list)
OPTIONS = web.AppKey("options", dict)
PACER = web.AppKey("pacer", Pacer)

SinkFactory = Callable[[web.Application], NoticeSink]


@dataclass(frozen=True)
class Platform:
    """A pluggable outside world: `enabled(settings)` says whether the settings switch it on (raising
    `ConfigError` on a partial configuration); `mount(app, settings)` adds its routes and its sink
    (a `SinkFactory` appended to `app[SINK_FACTORIES]`)."""

    name: str
    enabled: Callable[[Settings], bool]
    mount: Callable[[web.Application, Settings], None]


def wake_dispatcher(app: web.Application) -> None:
    """Tell this process's dispatcher that a notice was just queued, so it goes out without a poll delay."""
    for key in (DISPATCHER, MODEL_DISPATCHER):
        dispatcher = app.get(key)
        if dispatcher is not None:
            dispatcher.wake()
