"""Prometheus metrics: business counts read from the database at scrape time (the same from every
process, no state in memory), and HTTP latency per route measured in this process."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.registry import Collector

REGISTRY = web.AppKey("metrics_registry", CollectorRegistry)
HTTP_LATENCY = web.AppKey("http_latency", Histogram)
SNAPSHOT = web.AppKey("metrics_snapshot", dict)


class RecordCollector(Collector):
    """Yields the counts taken from the database just before each scrape."""

    def __init__(self, app: web.Application) -> None:
        self.app = app

    def collect(self) -> Iterator[Metric]:
        snap: dict[str, Any] = self.app.get(SNAPSHOT) or {}
        received = CounterMetricFamily(
            "intake_requests_received",
            "Client requests recorded, by platform and scope verdict.",
            labels=["platform", "verdict"],
        )
        for (platform, verdict), n in sorted(snap.get("requests", {}).items()):
            received.add_metric([platform, verdict], n)
        yield received
        decisions = CounterMetricFamily("intake_decisions", "PM decisions, by kind.", labels=["kind"])
        for kind, n in sorted(snap.get("decisions", {}).items()):
            decisions.add_metric([kind], n)
        yield decisions
        letters = GaugeMetricFamily("intake_letters", "Letters to clients, by status.", labels=["status"])
        for status, n in sorted(snap.get("letters", {}).items()):
            letters.add_metric([status], n)
        yield letters
        statuses = GaugeMetricFamily("intake_requests", "Client requests, by status.", labels=["status"])
        for status, n in sorted(snap.get("statuses", {}).items()):
            statuses.add_metric([status], n)
        yield statuses
        yield GaugeMetricFamily(
            "intake_requests_overdue",
            "Requests waiting for a decision past their due date.",
            value=snap.get("overdue", 0),
        )
        yield GaugeMetricFamily(
            "intake_schedule_pending",
            "Scheduled steps (reminders, escalations, expiries, follow-ups, summaries) not yet run.",
            value=snap.get("schedule_pending", 0),
        )
        yield GaugeMetricFamily(
            "intake_schedule_late_seconds",
            "How long the most overdue scheduled step has been due (0 when none is): the scheduler's lag.",
            value=snap.get("schedule_late", 0.0),
        )
        yield GaugeMetricFamily(
            "intake_outbox_pending", "Notices waiting to be delivered.", value=snap.get("outbox_pending", 0)
        )
        yield GaugeMetricFamily(
            "intake_outbox_oldest_pending_seconds",
            "Age of the oldest undelivered notice.",
            value=snap.get("outbox_oldest_age", 0.0),
        )
        yield GaugeMetricFamily(
            "intake_outbox_failed",
            "Notices that failed for good (delivery failures).",
            value=snap.get("outbox_failed", 0),
        )


class ModelCollector(Collector):
    """The language model's calls, failures, latency and tokens, as this process counted them."""

    def __init__(self, app: web.Application) -> None:
        self.app = app

    def collect(self) -> Iterator[Metric]:
        from bot.scope.llm import LATENCY_BUCKETS

        from .keys import RUNTIME

        runtime = self.app.get(RUNTIME)
        model = runtime.service.model if runtime is not None else None
        if model is None:
            return
        st = model.stats
        yield CounterMetricFamily(
            "intake_scope_model_calls", "Questions sent to the language model (not answered from the cache).", st.calls
        )
        yield CounterMetricFamily(
            "intake_scope_model_cache_hits", "Questions answered from the kept answers instead.", st.cache_hits
        )
        outcomes = CounterMetricFamily(
            "intake_scope_model_verdicts",
            "Requests judged with the model, by outcome (agreed, disagreed, failed).",
            labels=["outcome"],
        )
        for outcome in ("agreed", "disagreed", "failed"):
            outcomes.add_metric([outcome], st.outcomes.get(outcome, 0))
        yield outcomes
        failures = CounterMetricFamily(
            "intake_scope_model_failures",
            "Questions with no usable answer, by reason (timeout, rate_limited, server_error, malformed, "
            "refused, unknown_item, clause_not_found, …); the checker's verdict stood.",
            labels=["reason"],
        )
        for reason, n in sorted(st.failures.items()):
            failures.add_metric([reason], n)
        yield failures
        tokens = CounterMetricFamily("intake_scope_model_tokens", "Tokens the model server reported.", labels=["kind"])
        tokens.add_metric(["prompt"], st.prompt_tokens)
        tokens.add_metric(["completion"], st.completion_tokens)
        yield tokens
        latency = HistogramMetricFamily(
            "intake_scope_model_latency_seconds", "Time the language model took to answer (or fail)."
        )
        buckets = [(str(b), n) for b, n in zip(LATENCY_BUCKETS, st.latency_buckets, strict=True)]
        latency.add_metric([], [*buckets, ("+Inf", st.latency_count)], st.latency_sum)
        yield latency


def setup_metrics(app: web.Application) -> None:
    registry = CollectorRegistry()
    app[REGISTRY] = registry
    app[HTTP_LATENCY] = Histogram(
        "intake_http_request_duration_seconds",
        "Time to answer an HTTP request, by route.",
        ["route", "method", "status"],
        registry=registry,
        buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0),
    )
    app[SNAPSHOT] = {}  # refreshed in place before each scrape (the app's state is frozen once it runs)
    registry.register(RecordCollector(app))
    registry.register(ModelCollector(app))
    app.middlewares.append(latency_middleware)
    app.router.add_get("/metrics", metrics)


@web.middleware
async def latency_middleware(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    start = time.perf_counter()
    status = 500
    try:
        response = await handler(request)
        status = response.status
        return response
    except web.HTTPException as exc:
        status = exc.status
        raise
    finally:
        route = request.match_info.route.resource.canonical if request.match_info.route.resource else "unmatched"
        request.app[HTTP_LATENCY].labels(route, request.method, str(status)).observe(time.perf_counter() - start)


async def metrics(request: web.Request) -> web.Response:
    from .keys import RUNTIME

    snapshot = request.app[SNAPSHOT]
    fresh = await request.app[RUNTIME].store.metrics_snapshot()
    snapshot.clear()
    snapshot.update(fresh)
    body = generate_latest(request.app[REGISTRY])
    return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})
