"""The web page for PMs at /app: every request, its record, its letter and the change register, in the
browser. Server-rendered (Jinja2), with a few lines of plain JavaScript that only make it quicker to use:
every page works without it."""

from __future__ import annotations

import time
from pathlib import Path

from aiohttp import web
from aiohttp.typedefs import Handler

from . import pages, reports, signin
from .core import PREFIX, TEMPLATES, templates

STATIC = Path(__file__).parent / "static"


@web.middleware
async def security_headers(request: web.Request, handler: Handler) -> web.StreamResponse:
    started = time.perf_counter()
    response = await handler(request)
    if request.path.startswith(PREFIX):
        if not response.prepared:  # the server's own time for the page, for benchmarks and browsers' tools
            response.headers["Server-Timing"] = f"app;dur={(time.perf_counter() - started) * 1000:.1f}"
        response.headers.setdefault(
            "Content-Security-Policy",
            "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; frame-ancestors 'none'; form-action 'self'",
        )
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
    return response


def mount(app: web.Application) -> None:
    """Add the web app's routes to the server's application."""
    app[TEMPLATES] = templates()
    app.middlewares.append(security_headers)
    app.router.add_static(f"{PREFIX}/static", STATIC, append_version=True)
    signin.add_routes(app)
    pages.add_routes(app)
    reports.add_routes(app)


__all__ = ["PREFIX", "mount"]
