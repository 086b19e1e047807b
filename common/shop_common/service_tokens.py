"""This service's own identity when it calls another: its OAuth2 client-credentials token
(fetched from the user service, reused until near expiry) and :func:`internal_request`, the call
to another service's ``/internal/`` endpoint with that token (docs/auth.md, "Service identities").
Checking the tokens that come in is :mod:`shop_common.auth`."""

import logging
import threading
import time
from collections.abc import Iterable
from typing import Any

import httpx
from django.conf import settings

from shop_common.errors import DependencyUnavailable
from shop_common.service_client import service_client

logger = logging.getLogger("shop.service_tokens")
# In the one line each worker writes about its start-up fetch, whether it got the tokens or not
# (the test stacks wait for it: shop_common.testing.stack).
WARMUP_LOGGED = "fetched at worker start"

_own_token: dict[str, Any] = {}
_own_token_lock = threading.Lock()


def service_token(scope: str = "internal") -> str:
    """This service's client-credentials token for ``scope``, fetched once and reused until near expiry."""
    with _own_token_lock:
        cached = _own_token.get(scope)
        if cached and cached["expires"] - 30 > time.monotonic():
            return cached["token"]
        response = service_client("user").post(
            "/o/token/",
            data={"grant_type": "client_credentials", "scope": scope},
            auth=(settings.SERVICE_CLIENT_ID, settings.SERVICE_CLIENT_SECRET),
            idempotent=True,
        )
        if response.status_code != 200:
            raise DependencyUnavailable(
                "user",
                reason=f"no service token (client credentials answered {response.status_code})",
            )
        answer = response.json()
        _own_token[scope] = {
            "token": answer["access_token"],
            "expires": time.monotonic() + int(answer.get("expires_in", 0)),
        }
        return answer["access_token"]


def warm_service_tokens(scopes: Iterable[str], *, within: float, pause: float = 0.5) -> bool:
    """Fetches this service's tokens as a worker starts (shop_common.server), so that its first
    call to another service does not wait for the user service's client-secret hash (docs/auth.md,
    "OAuth2"). Best effort: waits at most ``within`` seconds for the user service's ``/health/``
    (a plain GET, outside the breaker: a user service still starting opens nothing), then asks
    once per scope; never raises. True when every token was fetched."""
    scopes = list(scopes)
    started = time.monotonic()
    health = f"{settings.SERVICE_URLS['user']}/health/"
    while True:
        try:
            ready = httpx.get(health, timeout=1.0).status_code == 200
        except httpx.HTTPError:
            ready = False
        if ready:
            break
        if time.monotonic() - started + pause > within:
            logger.warning(
                "No service token %s: the user service did not answer within %.0f s; the first "
                "call that needs one fetches it",
                WARMUP_LOGGED,
                within,
            )
            return False
        time.sleep(pause)
    try:
        for scope in scopes:
            service_token(scope)
    except DependencyUnavailable as error:
        logger.warning("No service token %s: %s", WARMUP_LOGGED, error.details.get("reason"))
        return False
    logger.info(
        "Service tokens %s (%s) in %.2f s",
        WARMUP_LOGGED,
        ", ".join(scopes),
        time.monotonic() - started,
    )
    return True


def forget_service_tokens() -> None:
    with _own_token_lock:
        _own_token.clear()


def internal_request(
    service: str, method: str, path: str, *, headers: dict[str, str] | None = None, **kwargs: Any
) -> Any:
    """A call to another service's ``/internal/`` endpoint with this service's token; a token the
    other side refuses (expired, rotated) is replaced once."""
    client = service_client(service)
    for attempt in (1, 2):
        authorized = {**(headers or {}), "Authorization": f"Bearer {service_token()}"}
        response = client.request(method, path, headers=authorized, **kwargs)
        if response.status_code != 401 or attempt == 2:
            return response
        forget_service_tokens()
    raise AssertionError("unreachable")  # pragma: no cover
