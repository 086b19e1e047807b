"""HTTP calls from one service to another: timeouts within the request's deadline, the request id,
bounded retries, a circuit breaker, 503 on failure.

    from shop_common.service_client import service_client
    response = service_client("product").get("/products/", params={"ids": "1,2"})

Connection errors and timeouts become :class:`DependencyUnavailable` (503 naming the service).
Only idempotent methods are retried, unless the caller states that a POST is idempotent
(``idempotent=True``, e.g. a stock reservation keyed by order reference), and only while the
request's deadline leaves time (``shop_common.deadlines``): each attempt's timeouts are cut to the
time left, and the deadline goes along as ``X-Request-Deadline``. After repeated failures the
service's circuit breaker opens and calls fail at once until it lets a trial call through. An HTTP
error status from the other service is returned as it is: what it means is the caller's business.
"""

import logging
import threading
import time
from dataclasses import dataclass
from typing import Any

import httpx
from django.conf import settings

from shop_common import deadlines, metrics
from shop_common.breaker import CircuitBreaker
from shop_common.errors import DependencyUnavailable
from shop_common.request_id import HEADER as REQUEST_ID_HEADER
from shop_common.request_id import current_request_id

logger = logging.getLogger("shop.service_client")

IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})

# Seconds an idle pooled connection is reused. Shorter than the servers' keep-alive
# (shop_common.processes.KEEPALIVE_SECONDS): a connection the server may be closing is never sent on.
KEEPALIVE_SECONDS = 1.0


@dataclass(frozen=True)
class Answer:
    """Another service's answer, kept as it is (status and body) so errors pass through unchanged."""

    status: int
    body: Any

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300


class ServiceClient:
    def __init__(
        self,
        service: str,
        *,
        base_url: str,
        connect_timeout: float,
        read_timeout: float,
        retries: int,
        retry_backoff: float,
        breaker_failures: int,
        breaker_reset: float,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.service = service
        self.retries = retries
        self.retry_backoff = retry_backoff
        self.connect_timeout = connect_timeout
        self.read_timeout = read_timeout
        self.breaker = CircuitBreaker(
            service, failure_threshold=breaker_failures, reset_timeout=breaker_reset
        )
        self._http = httpx.Client(
            base_url=base_url,
            timeout=httpx.Timeout(read_timeout, connect=connect_timeout),
            transport=transport,
            headers={"Accept": "application/json"},
            limits=httpx.Limits(
                max_connections=32, max_keepalive_connections=16, keepalive_expiry=KEEPALIVE_SECONDS
            ),
        )

    def request(
        self,
        method: str,
        path: str,
        *,
        idempotent: bool | None = None,
        headers: dict[str, str] | None = None,
        **kwargs: Any,
    ) -> httpx.Response:
        method = method.upper()
        retryable = method in IDEMPOTENT_METHODS if idempotent is None else idempotent
        attempts = 1 + (self.retries if retryable else 0)
        outgoing = dict(headers or {})
        request_id = current_request_id()
        if request_id:
            outgoing.setdefault(REQUEST_ID_HEADER, request_id)
        for attempt in range(1, attempts + 1):
            timeout = self._timeout_within_deadline(method)
            if not self.breaker.allow():
                metrics.count_dependency_call(self.service, method, "circuit_open")
                raise DependencyUnavailable(self.service, reason="circuit_open")
            deadline = deadlines.current_deadline()
            if deadline is not None:
                # The service called gets a little less time than this one waits for it, so that
                # when something behind it hangs, it is the one that answers the 503 naming what
                # hung (and this service passes that on) instead of both timing out together.
                downstream = deadline - settings.DEADLINE_HOP_MARGIN_SECONDS
                outgoing[deadlines.HEADER] = deadlines.format_deadline(downstream)
            started = time.perf_counter()
            try:
                response = self._http.request(
                    method, path, headers=outgoing, timeout=timeout, **kwargs
                )
            except httpx.TransportError as exc:
                self.breaker.failed()
                failure = "timeout" if isinstance(exc, httpx.TimeoutException) else "unreachable"
                metrics.count_dependency_call(self.service, method, failure, started)
                logger.warning(
                    "Call to the %s service failed (%s %s, attempt %d of %d): %s",
                    self.service,
                    method,
                    path,
                    attempt,
                    attempts,
                    type(exc).__name__,
                )
                if attempt == attempts:
                    raise DependencyUnavailable(self.service, reason=failure) from exc
                pause = self.retry_backoff * attempt
                left = deadlines.time_left()
                if left is not None and left <= pause:
                    raise DependencyUnavailable(self.service, reason="deadline") from exc
                time.sleep(pause)
            else:
                self.breaker.succeeded()
                metrics.count_dependency_call(
                    self.service, method, f"{response.status_code // 100}xx", started
                )
                return response
        raise AssertionError("unreachable")  # pragma: no cover

    def _timeout_within_deadline(self, method: str) -> httpx.Timeout:
        """The configured timeouts, cut to the time the request's deadline leaves; none left is a
        503 at once, without a call the caller could no longer wait for."""
        left = deadlines.time_left()
        if left is None:
            return httpx.Timeout(self.read_timeout, connect=self.connect_timeout)
        if left <= 0:
            metrics.count_dependency_call(self.service, method, "deadline")
            raise DependencyUnavailable(self.service, reason="deadline")
        return httpx.Timeout(min(self.read_timeout, left), connect=min(self.connect_timeout, left))

    def get(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.request("POST", path, **kwargs)

    def close(self) -> None:
        self._http.close()


_clients: dict[str, ServiceClient] = {}
_clients_lock = threading.Lock()


def build_service_client(service: str, **overrides: Any) -> ServiceClient:
    """A new client for ``service`` from settings; ``overrides`` replace single settings (tests)."""
    options: dict[str, Any] = {
        "base_url": settings.SERVICE_URLS[service],
        "connect_timeout": settings.SERVICE_HTTP_CONNECT_TIMEOUT,
        "read_timeout": settings.SERVICE_HTTP_READ_TIMEOUT,
        "retries": settings.SERVICE_HTTP_RETRIES,
        "retry_backoff": settings.SERVICE_HTTP_RETRY_BACKOFF,
        "breaker_failures": settings.SERVICE_BREAKER_FAILURES,
        "breaker_reset": settings.SERVICE_BREAKER_RESET_SECONDS,
    }
    options.update(overrides)
    return ServiceClient(service, **options)


def service_client(service: str) -> ServiceClient:
    """The process's shared client for ``service`` (one connection pool per service and process)."""
    client = _clients.get(service)
    if client is None:
        with _clients_lock:
            client = _clients.get(service)
            if client is None:
                client = _clients[service] = build_service_client(service)
    return client


def breaker_states() -> dict[str, dict[str, object]]:
    """The circuit breaker of every service this process has called, for /health/."""
    with _clients_lock:
        clients = list(_clients.values())
    return {client.service: client.breaker.snapshot() for client in clients}


def reset_service_clients() -> None:
    """Forget the shared clients, e.g. after settings changed in a test."""
    with _clients_lock:
        for client in _clients.values():
            client.close()
        _clients.clear()
