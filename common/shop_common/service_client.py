"""HTTP calls from one service to another: timeouts, the request id, bounded retries, 503 on failure.

    from shop_common.service_client import service_client
    response = service_client("product").get("/products/", params={"ids": "1,2"})

Connection errors and timeouts become :class:`DependencyUnavailable` (503 naming the service).
Only idempotent methods are retried, unless the caller states that a POST is idempotent
(``idempotent=True``, e.g. a stock reservation keyed by order reference). An HTTP error status
from the other service is returned as it is: what it means is the caller's business.
"""

import logging
import threading
import time
from typing import Any

import httpx
from django.conf import settings

from shop_common.errors import DependencyUnavailable
from shop_common.request_id import HEADER as REQUEST_ID_HEADER
from shop_common.request_id import current_request_id

logger = logging.getLogger("shop.service_client")

IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})


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
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.service = service
        self.retries = retries
        self.retry_backoff = retry_backoff
        self._http = httpx.Client(
            base_url=base_url,
            timeout=httpx.Timeout(read_timeout, connect=connect_timeout),
            transport=transport,
            headers={"Accept": "application/json"},
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
            try:
                return self._http.request(method, path, headers=outgoing, **kwargs)
            except httpx.TransportError as exc:
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
                    reason = "timeout" if isinstance(exc, httpx.TimeoutException) else "unreachable"
                    raise DependencyUnavailable(self.service, reason=reason) from exc
                time.sleep(self.retry_backoff * attempt)
        raise AssertionError("unreachable")  # pragma: no cover

    def get(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.request("POST", path, **kwargs)

    def put(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.request("PUT", path, **kwargs)

    def patch(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.request("PATCH", path, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.request("DELETE", path, **kwargs)

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


def reset_service_clients() -> None:
    """Forget the shared clients, e.g. after settings changed in a test."""
    with _clients_lock:
        for client in _clients.values():
            client.close()
        _clients.clear()
