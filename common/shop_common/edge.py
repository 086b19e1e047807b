"""The shop's own work on every request, in one middleware that runs first (docs/scaling.md,
"The edge"): the request id and its access line, the request's metrics, the Host check, the body
limit, the request's budget (a caller's deadline counts only once it is authenticated as a shop
service: shop_common.deadlines), the route (found once, either spelling of the trailing slash),
the headers of HTML pages (Content-Security-Policy, X-Frame-Options) and the error shape of what a
view raises.

Middleware that only browsers need is skipped where no browser goes: sessions, CSRF,
authentication and messages run only for pages (a route whose view is not ``csrf_exempt``: the
admins, the login and OAuth pages), CORS only when the request sends an ``Origin``, static files
only under ``STATIC_URL``.
"""

import contextlib
import functools
import logging
import time
from collections.abc import Callable
from typing import Any

from corsheaders.middleware import CorsMiddleware
from django.conf import settings
from django.contrib.auth.middleware import AuthenticationMiddleware
from django.contrib.messages.middleware import MessageMiddleware
from django.contrib.sessions.middleware import SessionMiddleware
from django.core.signals import setting_changed
from django.db import DatabaseError, connection
from django.http import HttpRequest, HttpResponse
from django.middleware.csrf import CsrfViewMiddleware
from django.urls import Resolver404, ResolverMatch, get_resolver
from django.utils.cache import patch_vary_headers
from whitenoise.middleware import WhiteNoiseMiddleware

from shop_common import deadlines, errors, metrics
from shop_common.error_handlers import error_response, exception_response, reject_disallowed_host
from shop_common.logs import AccessRecord
from shop_common.request_id import (
    HEADER,
    META_KEY,
    QueryCounter,
    accept_or_create,
    access_log,
    bind,
)
from shop_common.request_limits import refuse_large_body


def route_not_found(request: HttpRequest) -> HttpResponse:
    """The answer to every path no route matches, in either spelling: a JSON 404 even with DEBUG
    on, where Django would render its HTML page (given by :class:`UnroutedMiddleware`)."""
    return error_response(404, errors.NOT_FOUND, details={"path": request.path})


route_not_found.csrf_exempt = True  # type: ignore[attr-defined]
route_not_found.metrics_label = metrics.UNMATCHED  # type: ignore[attr-defined]
NOT_FOUND = ResolverMatch(route_not_found, (), {})


def _other_spelling(path: str) -> str:
    return path[:-1] if path.endswith("/") else f"{path}/"


def _match(path: str) -> ResolverMatch | None:
    try:
        match = get_resolver().resolve(path)
    except Resolver404:
        return None
    # The Django admin's catch-all matches any path under admin/ (and sends it to the login page):
    # it is not a route of its own, so /admin/login still finds /admin/login/.
    if getattr(match.func, "__name__", "") == "catch_all_view":
        return None
    return match


@functools.lru_cache(maxsize=4096)
def route(path: str) -> tuple[ResolverMatch, str]:
    """The route of ``path`` and the spelling it is routed under (``/orders/1`` → ``/orders/1/``
    when only that one is routed), or :data:`NOT_FOUND`. Remembered per path: the hot paths are a
    fixed set, and ids make the rest (bounded by maxsize)."""
    match = _match(path)
    if match is not None:
        return match, path
    alternative = _other_spelling(path)
    if alternative:
        match = _match(alternative)
        if match is not None:
            return match, alternative
    return NOT_FOUND, path


def _forget_routes(*, setting: str, **kwargs: Any) -> None:
    if setting == "ROOT_URLCONF":
        route.cache_clear()


setting_changed.connect(_forget_routes)


def is_page(request: HttpRequest) -> bool:
    """A route a browser uses with a session and forms (the view is not ``csrf_exempt``)."""
    return getattr(request, "shop_page", False)


class EdgeMiddleware:
    """First in MIDDLEWARE: everything the shop does on every request, in one pass."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.static_prefix = f"/{settings.STATIC_URL.lstrip('/')}" if settings.STATIC_URL else ""
        # COUNT_SQL_QUERIES (tests): the access line says how many SQL statements the request ran
        # on the service's database (tests/e2e/test_query_budget.py adds them up for a checkout).
        # LOG_SQL_STATEMENTS adds db_statements, their SQL text (docs/development.md, "Counting
        # SQL statements").
        self.log_statements = getattr(settings, "LOG_SQL_STATEMENTS", False)
        self.count_queries = self.log_statements or getattr(settings, "COUNT_SQL_QUERIES", False)

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        request_id = accept_or_create(request.META.get(META_KEY))
        request.request_id = request_id
        with bind(request_id):
            counter = None
            if self.count_queries:
                # A new connection's own statements (MariaDB: the server's variables and the
                # isolation level, once per thread's connection) are not the request's: the
                # connection is made before counting starts. A database that cannot be reached
                # is left to the view, as without counting.
                with contextlib.suppress(DatabaseError):
                    connection.ensure_connection()
                counter = QueryCounter(keep=self.log_statements)
                with connection.execute_wrapper(counter):
                    response = self.answer(request)
            else:
                response = self.answer(request)
            response[HEADER] = request_id
            elapsed = time.perf_counter() - started
            metrics.count_request(request, response.status_code, elapsed)
            self.log(request, response, elapsed, counter)
        return response

    def answer(self, request: HttpRequest) -> HttpResponse:
        """The refusals that need no route (a foreign Host, a body over the limit), then the route
        and the rest of the chain under the service's budget."""
        refused = reject_disallowed_host(request) or refuse_large_body(request)
        if refused is not None:
            return refused
        return deadlines.within_budget(request, self.routed)

    def routed(self, request: HttpRequest) -> HttpResponse:
        path = request.path_info
        if self.static_prefix and path.startswith(self.static_prefix):
            # WhiteNoise answers before any view; a file it does not have is a JSON 404.
            match = NOT_FOUND
        else:
            match, spelling = route(path)
            if spelling != path:
                request.path_info = spelling
                request.path = f"{request.META.get('SCRIPT_NAME', '').rstrip('/')}{spelling}"
        request.resolver_match = match
        request.shop_page = not getattr(match.func, "csrf_exempt", False)
        response = self.get_response(request)
        if response.get("Content-Type", "").startswith("text/html"):
            page_headers(response)
        return response

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse:
        """What a view raises, with DEBUG on or off: no HTML error page escapes."""
        return exception_response(exception, request)

    @staticmethod
    def log(
        request: HttpRequest,
        response: HttpResponse,
        elapsed: float,
        counter: QueryCounter | None,
    ) -> None:
        if not access_log.isEnabledFor(logging.INFO):
            return
        # The path only: a query string may carry a token (GET /auth/validate_token?token=).
        fields = {
            "method": request.method,
            "path": request.path,
            "status": response.status_code,
            "duration_ms": round(elapsed * 1000, 2),
            "request_id": request.request_id,
        }
        if counter is not None:
            fields["db_queries"] = counter.count
            fields["db_begins"] = counter.begins
            if counter.statements is not None:
                # One line per statement: the formatter writes a list as its repr.
                fields["db_statements"] = "\n".join(
                    " ".join(sql.split()) for sql in counter.statements
                )
        access_log.handle(AccessRecord(fields))


# Every HTML page (the admins, the login and OAuth pages, Swagger UI, the payment landing pages)
# loads what it runs from its own service: no inline script (Swagger UI's start-up script is a
# file, shop_common.urls; the OAuth page's too), no plugins, forms that post back to the service,
# and no framing. Inline styles stay allowed: the admin's widgets and the small pages use them.
PAGE_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data:",
        "font-src 'self' data:",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)


def page_headers(response: HttpResponse) -> None:
    """An HTML page gets the Content-Security-Policy and may not be framed by another site (what
    Django's XFrameOptionsMiddleware did, for pages only)."""
    headers = response.headers
    headers.setdefault("Content-Security-Policy", PAGE_SECURITY_POLICY)
    if not getattr(response, "xframe_options_exempt", False):
        headers.setdefault("X-Frame-Options", settings.X_FRAME_OPTIONS)


def pages_only(middleware: type) -> type:
    """``middleware`` for pages only; any other request passes it by."""

    class PagesOnly(middleware):
        def __call__(self, request: HttpRequest) -> HttpResponse:
            if not is_page(request):
                return self.get_response(request)
            return super().__call__(request)

        def process_view(self, request: HttpRequest, *args: Any) -> HttpResponse | None:
            if not is_page(request):
                return None
            return super().process_view(request, *args)

    if not hasattr(middleware, "process_view"):
        del PagesOnly.process_view
    PagesOnly.__name__ = PagesOnly.__qualname__ = f"Page{middleware.__name__}"
    PagesOnly.__module__ = __name__
    return PagesOnly


PageSessionMiddleware = pages_only(SessionMiddleware)
PageCsrfViewMiddleware = pages_only(CsrfViewMiddleware)
PageAuthenticationMiddleware = pages_only(AuthenticationMiddleware)
PageMessageMiddleware = pages_only(MessageMiddleware)


class UnroutedMiddleware:
    """Last in MIDDLEWARE: a path the edge found no route for is answered here, after the security,
    static files and CORS middleware, and before Django would resolve it again."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if getattr(request, "resolver_match", None) is NOT_FOUND:
            return route_not_found(request)
        return self.get_response(request)


class StaticFilesMiddleware(WhiteNoiseMiddleware):
    """WhiteNoise, asked only for paths under STATIC_URL."""

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not request.path_info.startswith(self.static_prefix):
            return self.get_response(request)
        return super().__call__(request)


class OriginCorsMiddleware(CorsMiddleware):
    """django-cors-headers, for requests that send an Origin; the others only get ``Vary:
    Origin`` (a cache must not give one origin's answer to another)."""

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if "HTTP_ORIGIN" in request.META:
            return super().__call__(request)
        response = self.get_response(request)
        patch_vary_headers(response, ("origin",))
        return response
