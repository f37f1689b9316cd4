"""The language model's questions, delivered by the outbox like any notice.

`IntakeService.submit_request` queues one row per request (platform `scope_model`) when a model is
configured. A dispatcher with a `ModelJobSink` takes it under a lease, so the question is asked by one
process at a time; a process that dies while asking leaves it to another (or to its own restart) once the
lease runs out. The sink never fails a job for the model's sake: a model that does not answer is part of
the job's outcome (the checker's verdict stands, and the card says so). Only a database that cannot be
reached makes the outbox try again later.
"""

from __future__ import annotations

from typing import Any

from .domain import Notice
from .errors import PermanentDeliveryError, RequestNotFound, StorageUnavailable, TemporaryDeliveryError
from .outbox import Dispatcher
from .ports import Attempt, NoticeSink, Outbox
from .scope.llm import MODEL_PLATFORM
from .service import IntakeService

# How long a process may hold a question before another may take it over: well past the model's own
# timeout (and a fallback to a plainer answer format, which asks twice).
LEASE_PER_TIMEOUT = 3


def lease_seconds(service: IntakeService) -> float:
    timeout = service.model.timeout if service.model is not None else 8.0
    return LEASE_PER_TIMEOUT * timeout + 30.0


def model_dispatcher(service: IntakeService, **kw: Any) -> Dispatcher:
    """A dispatcher that asks the model about recorded requests, as many at a time as the model may be
    asked (one at a time when no model is configured: it only tells waiting requests so)."""
    n = service.model.max_concurrent if service.model is not None else 1
    return Dispatcher(
        service.store, [ModelJobSink(service)], batch=n, concurrency=n, lease_seconds=lease_seconds(service), **kw
    )


class ModelJobSink(NoticeSink):
    """Asks the language model about one recorded request (`IntakeService.judge_with_model`). In a process
    with no model configured it tells the waiting requests that the model is switched off."""

    platform = MODEL_PLATFORM

    def __init__(self, service: IntakeService) -> None:
        self.service = service

    async def deliver(self, notice: Notice, *, outbox: Outbox, attempt: Attempt | None = None) -> dict[str, Any] | None:
        if not notice.ref:
            raise PermanentDeliveryError("a question for the language model names no request")
        try:
            rec = await self.service.judge_with_model(notice.ref)
        except StorageUnavailable as exc:
            raise TemporaryDeliveryError(str(exc)) from exc
        except RequestNotFound as exc:
            raise PermanentDeliveryError(str(exc)) from exc
        second = rec.verdict.second
        return {"outcome": second.status.value if second is not None else "none", "verdict": rec.verdict.verdict.value}
