"""The viewer's ASGI app: routes, security headers, and one error policy.

Read-only by construction: only GET routes, and the store is opened read-only at the
connection. Every response carries a strict Content-Security-Policy (no script at all, styles
and images from this server only), so even markup that slipped past escaping could not run or
load anything. Requests must name a local host (DNS rebinding protection). An error is a page
that says what went wrong and what to do, never a stack trace.
"""

from __future__ import annotations

import sys
from typing import Any, Awaitable, Callable

from harness.errors import HarnessError
from harness.store.database import RunStore, StoreError
from harness.store.read import UnknownRun
from harness.view.site import NotFound, Site, content_security_policy
from harness.view.texts import RunDirectoryMissing

CSP = content_security_policy()
HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
    (b"cross-origin-opener-policy", b"same-origin"),
]
LOCAL_HOSTS = ["127.0.0.1", "localhost", "[::1]", "::1"]


class SecurityHeaders:
    """Adds the headers above and the CSP to every HTTP response."""

    def __init__(self, app: Any):
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Callable[[], Awaitable[Any]], send: Callable[[Any], Awaitable[None]]) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers") or [])
                if not any(name.lower() == b"content-security-policy" for name, _ in headers):
                    headers.append((b"content-security-policy", CSP.encode()))
                message["headers"] = headers + HEADERS
            await send(message)

        await self.app(scope, receive, with_headers)


def status_of(error: Exception) -> tuple[int, str]:
    """The HTTP status and the page title for a user-facing error."""
    if isinstance(error, (UnknownRun, NotFound)):
        return 404, "Not found"
    if isinstance(error, StoreError):
        return 503, "The run store cannot be read"
    if isinstance(error, RunDirectoryMissing):
        return 410, "Run directory missing"
    return 400, "Cannot show this"


def page(site: Site, handler: Callable[[Site, Any], Any]) -> Callable[[Any], Any]:
    """A route endpoint (run in a worker thread by Starlette) whose errors become pages."""

    def endpoint(request: Any) -> Any:
        try:
            return handler(site, request)
        except HarnessError as error:
            status, title = status_of(error)
            return error_page(site, status, title, str(error))
        except Exception as error:  # noqa: BLE001 - a bug must still give a page, not a trace
            print(f"harness view: internal error on {request.url.path}: {type(error).__name__}: {error}", file=sys.stderr)
            return error_page(site, 500, "internal error", f"{type(error).__name__}: {error}")

    endpoint.__name__ = handler.__name__
    return endpoint


def error_page(site: Site, status: int, title: str, message: str) -> Any:
    try:
        return site.render("error.html", status=status, title=title, message=message)
    except Exception:  # noqa: BLE001 - the templates themselves failed: plain text
        from starlette.responses import PlainTextResponse

        return PlainTextResponse(f"{title}: {message}", status_code=status)


def create_app(store: RunStore, *, hosts: list[str] | None = None) -> Any:
    """The app over `store` (open it read-only); `hosts` are the Host names accepted."""
    from starlette.applications import Starlette
    from starlette.middleware import Middleware
    from starlette.middleware.trustedhost import TrustedHostMiddleware
    from starlette.routing import Mount, Route
    from starlette.staticfiles import StaticFiles

    from harness.view.pages import compare, example, run, runs, samples, trends

    site = Site(store)

    async def not_found(request: Any, exc: Any) -> Any:
        status = getattr(exc, "status_code", 404)
        message = "no such page" if status == 404 else str(getattr(exc, "detail", "")) or "request refused"
        return error_page(site, status, "not found" if status == 404 else "refused", message)

    async def no_icon(request: Any) -> Any:
        from starlette.responses import Response

        return Response(status_code=204)

    async def decision_css(request: Any) -> Any:
        """The Decision section's styles (the same as report.html's), a file like the viewer's own."""
        from starlette.responses import Response

        from harness.decision.as_html import CSS as DECISION_CSS

        return Response(DECISION_CSS, media_type="text/css", headers={"cache-control": "max-age=3600"})

    routes = [
        Route("/", page(site, runs.runs_page)),
        Route("/favicon.ico", no_icon),
        Route("/decision.css", decision_css),
        Route("/runs/{run_id}", page(site, run.run_page)),
        Route("/runs/{run_id}/charts/{name}", page(site, run.chart_file)),
        Route("/runs/{run_id}/samples", page(site, samples.samples_page)),
        Route("/runs/{run_id}/example", page(site, example.example_page)),
        Route("/compare", page(site, compare.compare_page)),
        Route("/trends", page(site, trends.trends_page)),
        Mount("/static", StaticFiles(packages=[("harness.view", "static")]), name="static"),
    ]
    middleware = [Middleware(SecurityHeaders), Middleware(TrustedHostMiddleware, allowed_hosts=hosts or LOCAL_HOSTS)]
    app = Starlette(routes=routes, middleware=middleware, exception_handlers={404: not_found, 405: not_found})
    app.state.site = site
    return app
