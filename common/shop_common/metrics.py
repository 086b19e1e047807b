"""Prometheus metrics of a service, served at ``GET /metrics`` (docs/observability.md).

Every metric of the shop is defined here, once, so that the six services name things alike and a
service only counts (``metrics.LOGINS.labels(outcome="ok").inc()``).

Under the server each worker is its own process: prometheus-client's multiprocess mode keeps each
process's values in files under ``PROMETHEUS_MULTIPROC_DIR``, which ``/metrics`` adds up. The
server's main process makes (or empties) that directory before its workers start
(``shop_common.server``); the variable must be set before this module is imported, so it is
read from the environment, not from settings. Without it (unit tests, ``runserver``) the values
live in the process.
"""

import hmac
import os
import time
from collections.abc import Callable, Iterable
from typing import Any

from django.conf import settings
from django.db.backends.signals import connection_created
from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client.metrics_core import Metric
from prometheus_client.multiprocess import MultiProcessCollector

MULTIPROC_DIR_VARIABLE = "PROMETHEUS_MULTIPROC_DIR"

# Seconds. The budget of a request is 5 s (REQUEST_BUDGET_SECONDS); the alert on p95 reads these.
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

# --- HTTP, every service -------------------------------------------------------------------------
REQUESTS = Counter(
    "shop_http_requests",
    "Requests answered, by view (module.Class of the view; 'unmatched' for no route), method and "
    "status code.",
    ["view", "method", "status"],
)
REQUEST_SECONDS = Histogram(
    "shop_http_request_duration_seconds",
    "Time from the request's arrival to its answer, by view and method.",
    ["view", "method"],
    buckets=LATENCY_BUCKETS,
)

# --- calls to other services (shop_common.service_client, shop_common.breaker) ------------------
DEPENDENCY_REQUESTS = Counter(
    "shop_dependency_requests",
    "Calls to another service, by dependency, method and outcome: the answer's status class "
    "(2xx, 3xx, 4xx, 5xx), 'timeout', 'unreachable' (each failed attempt), 'circuit_open' (refused "
    "by the breaker without a call) or 'deadline' (no time left to make it).",
    ["dependency", "method", "outcome"],
)
DEPENDENCY_SECONDS = Histogram(
    "shop_dependency_request_duration_seconds",
    "Time of one attempt of a call to another service, answered or failed.",
    ["dependency"],
    buckets=LATENCY_BUCKETS,
)
BREAKER_STATE = Gauge(
    "shop_dependency_breaker_state",
    "Circuit breaker of a dependency: 0 closed, 1 half-open, 2 open (the worst of the live worker "
    "processes; each has its own breaker).",
    ["dependency"],
    multiprocess_mode="livemax",
)
BREAKER_TRANSITIONS = Counter(
    "shop_dependency_breaker_transitions",
    "Circuit breaker state changes, by dependency and the state entered.",
    ["dependency", "state"],
)
BREAKER_STATE_VALUES = {"closed": 0, "half_open": 1, "open": 2}

# --- the database -------------------------------------------------------------------------------
DB_QUERIES = Counter(
    "shop_db_queries",
    "SQL statements sent to the service's own database, by database alias.",
    ["database"],
)

# --- the shop's own events ----------------------------------------------------------------------
LOGINS = Counter(
    "shop_logins",
    "Password checks (API and HTML login, both admins, the product admin's staff login): ok, "
    "failed (wrong email or password, inactive account) or throttled (refused before the check).",
    ["outcome"],
)
PASSWORD_SLOWDOWNS = Counter(
    "shop_password_slowdowns",
    "Password checks that waited first: the account failed more often, across addresses, than "
    "one address may fail it (accounts.throttles.slowdown).",
)
SERVICE_CLIENT_FAILURES = Counter(
    "shop_service_client_failures",
    "Refused secrets of the shop's own service clients at /o/token/ and /o/revoke_token/ (never "
    "locked: someone is guessing, or a service runs with an old secret).",
    ["client_id"],
)
STOCK_RESERVATIONS = Counter(
    "shop_stock_reservations",
    "Stock reservations by outcome: granted, refused (out of stock), committed (paid), released "
    "(cancelled, payment failed; expiries by the job: shop_stock_reservations_held and "
    "shop_stock_reservations_expired_last_hour).",
    ["outcome"],
)
ORDER_TRANSITIONS = Counter(
    "shop_order_transitions",
    "Order state changes, by the state left and the state entered.",
    ["from_status", "to_status"],
)
PAYMENTS = Counter(
    "shop_payments",
    "Payment state changes, by gateway and the state entered (created, succeeded, failed, "
    "cancelled...).",
    ["gateway", "status"],
)
WEBHOOK_EVENTS = Counter(
    "shop_webhook_events",
    "Provider webhook events by provider and outcome: applied, duplicate (an event id seen "
    "before: acknowledged, not applied again), ignored (acknowledged; nothing to change), rejected "
    "(bad signature or content: 400), failed (a dependency was down: 5xx, the provider retries).",
    ["provider", "outcome"],
)
REFUNDS = Counter(
    "shop_refunds",
    "Refunds by gateway and outcome: requested (by the shop), provider (made at the provider's "
    "dashboard, applied), succeeded, failed, rejected (a provider's refund past what was "
    "captured: not applied). docs/observability.md.",
    ["gateway", "outcome"],
)

# Collectors that compute their values when /metrics is read (a count in the database), added by a
# service's AppConfig.ready() with add_scrape_collector().
_scrape_collectors: list[Callable[[], Iterable[Metric]]] = []


class _ScrapeCollector:
    def __init__(self, collect: Callable[[], Iterable[Metric]]) -> None:
        self.collect = collect

    def describe(self) -> list[Metric]:
        # Without it the registry calls collect() to learn the names: a query at start-up.
        return []


def add_scrape_collector(collect: Callable[[], Iterable[Metric]]) -> None:
    """``collect()`` yields metric families (``GaugeMetricFamily``) each time /metrics is read."""
    _scrape_collectors.append(collect)
    if not multiprocess_dir():
        REGISTRY.register(_ScrapeCollector(collect))


def multiprocess_dir() -> str | None:
    return os.environ.get(MULTIPROC_DIR_VARIABLE) or None


def render() -> bytes:
    """The text exposition of every process of this service (all its worker processes)."""
    if not multiprocess_dir():
        return generate_latest(REGISTRY)
    registry = CollectorRegistry()
    MultiProcessCollector(registry)
    for collect in _scrape_collectors:
        registry.register(_ScrapeCollector(collect))
    return generate_latest(registry)


@csrf_exempt
def metrics_view(request: HttpRequest) -> HttpResponse:
    """``GET /metrics``. With ``METRICS_TOKEN`` set, only ``Authorization: Bearer <that token>``
    reads it; without one it is open with DEBUG on (local development) and closed (403) otherwise,
    so a production service never shows it to the public by omission."""
    # Here, not at the top: the service client and the breaker import this module, and the error
    # handlers import DRF, whose settings import the authentication that imports the client.
    from shop_common import errors
    from shop_common.error_handlers import error_response

    if request.method not in ("GET", "HEAD"):
        return error_response(405, errors.METHOD_NOT_ALLOWED)
    token = settings.METRICS_TOKEN
    if token:
        scheme, _, given = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(
            given.strip().encode(), token.encode()
        ):
            response = error_response(
                401,
                errors.NOT_AUTHENTICATED,
                "Send the metrics token: Authorization: Bearer <METRICS_TOKEN>.",
            )
            response["WWW-Authenticate"] = 'Bearer realm="metrics"'
            return response
    elif not settings.DEBUG:
        return error_response(
            403,
            errors.PERMISSION_DENIED,
            "Metrics are closed: this service has no METRICS_TOKEN configured.",
        )
    return HttpResponse(render(), content_type=CONTENT_TYPE_LATEST)


# The view label of a request no route matches.
UNMATCHED = "unmatched"
_view_labels: dict[int, str] = {}
_request_children: dict[tuple[str, str, int], tuple[Any, Any]] = {}
# Any other method a client sends is "other": a label value per invented method would let anyone
# add series without end.
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


def view_label(request: HttpRequest) -> str:
    """``module.Class`` of the view that answered (its route's, also for an error it raised)."""
    match = getattr(request, "resolver_match", None)
    if match is None:
        return UNMATCHED
    func = match.func
    label = _view_labels.get(id(func))
    if label is None:
        label = getattr(func, "metrics_label", None)
    if label is None:
        target = getattr(func, "view_class", None) or getattr(func, "cls", None) or func
        label = _view_labels[id(func)] = (
            f"{target.__module__}.{getattr(target, '__qualname__', type(target).__name__)}"
        )
    return label


def count_request(request: HttpRequest, status: int, elapsed: float) -> None:
    """One answer of this service, refused ones (a foreign Host) included (shop_common.edge)."""
    method = request.method if request.method in _METHODS else "other"
    key = (view_label(request), method, status)
    children = _request_children.get(key)
    if children is None:
        # labels() costs about as much as the update itself: looked up once per key.
        children = _request_children[key] = (
            REQUESTS.labels(*key),
            REQUEST_SECONDS.labels(key[0], key[1]),
        )
    children[0].inc()
    children[1].observe(elapsed)


def _count_query(execute: Callable[..., Any], sql: str, params: Any, many: bool, context: Any):
    context["connection"]._shop_query_counter.inc()
    return execute(sql, params, many, context)


def _on_connection_created(*, connection: Any, **kwargs: Any) -> None:
    if _count_query not in connection.execute_wrappers:
        connection._shop_query_counter = DB_QUERIES.labels(connection.alias)
        connection.execute_wrappers.append(_count_query)


def count_database_queries() -> None:
    """Counts every statement of every connection this process opens (AppConfig.ready)."""
    connection_created.connect(_on_connection_created, dispatch_uid="shop_common.metrics")


def set_breaker_state(dependency: str, state: str) -> None:
    BREAKER_STATE.labels(dependency).set(BREAKER_STATE_VALUES[state])


def count_breaker_transition(dependency: str, state: str) -> None:
    set_breaker_state(dependency, state)
    BREAKER_TRANSITIONS.labels(dependency, state).inc()


def count_dependency_call(
    dependency: str, method: str, outcome: str, started: float | None = None
) -> None:
    """One attempt of a call to ``dependency``; ``started`` (perf_counter) when one was made."""
    DEPENDENCY_REQUESTS.labels(dependency, method, outcome).inc()
    if started is not None:
        DEPENDENCY_SECONDS.labels(dependency).observe(time.perf_counter() - started)
