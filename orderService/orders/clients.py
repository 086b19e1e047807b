"""The order service's calls to the product service's stock API (service token, scope internal).
Each is idempotent by order number, so transport failures are retried."""

import logging
from typing import Any

from shop_common.auth import internal_request
from shop_common.errors import DependencyUnavailable, OutOfStock

logger = logging.getLogger("shop.orders")


class ReservationClosed(Exception):
    """The product service no longer holds this reservation (it was released or committed)."""


def reserve_stock(*, order_ref: str, lines: list[dict[str, int]]) -> dict[str, Any]:
    response = internal_request(
        "product",
        "POST",
        "/internal/stock/reserve/",
        json={"order_ref": order_ref, "lines": lines},
        idempotent=True,
    )
    if response.status_code in (200, 201):
        return response.json()
    if response.status_code == 409:
        raise OutOfStock(details=response.json()["error"]["details"])
    raise DependencyUnavailable("product", reason=f"reserve answered {response.status_code}")


def _close(action: str, order_ref: str) -> dict[str, Any]:
    response = internal_request(
        "product",
        "POST",
        f"/internal/stock/{action}/",
        json={"order_ref": order_ref},
        idempotent=True,
    )
    if response.status_code == 200:
        return response.json()
    if response.status_code in (404, 409):
        raise ReservationClosed(order_ref)
    raise DependencyUnavailable("product", reason=f"{action} answered {response.status_code}")


def commit_stock(*, order_ref: str) -> dict[str, Any]:
    return _close("commit", order_ref)


def release_stock(*, order_ref: str) -> bool:
    """Best effort: an unreleased reservation expires by itself in the product service."""
    try:
        _close("release", order_ref)
        return True
    except ReservationClosed:
        return True
    except DependencyUnavailable:
        logger.warning(
            "Could not release the stock of %s now; its reservation will expire", order_ref
        )
        return False
