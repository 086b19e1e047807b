"""The order service's calls to the product service's stock API and to the payment service (its
service token, scope internal). Each is idempotent (by order number, or the order's one open
payment), so transport failures are retried."""

import threading
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import httpx

from orders.exceptions import ProductsNotFound
from shop_common.errors import DependencyUnavailable, OutOfStock
from shop_common.service_client import Answer
from shop_common.service_tokens import internal_request


class ReservationClosed(Exception):
    """The product service no longer holds this reservation (it was released or committed)."""


# Set when the product service answered during the current request: the outbox then delivers
# what is waiting for it once the response is out (orders.outbox.drain_after_response).
_answered = threading.local()


def product_answered_since_last_asked() -> bool:
    answered = getattr(_answered, "flag", False)
    _answered.flag = False
    return answered


def _stock_call(path: str, body: dict[str, Any]) -> httpx.Response:
    response = internal_request("product", "POST", path, json=body, idempotent=True)
    if response.status_code < 500:
        _answered.flag = True
    return response


@dataclass(frozen=True)
class ReservedLine:
    """A reserved line with its product's catalog facts, read with the stock's row locks held."""

    product_id: int
    quantity: int
    title: str
    sku: str
    price: Decimal
    currency: str


def reserve_stock(*, order_ref: str, lines: list[dict[str, int]]) -> list[ReservedLine]:
    """The reserved lines, each priced by the catalog (one line per product, in id order).

    :raises ProductsNotFound: products unknown or not for sale (nothing reserved).
    :raises OutOfStock: a line is short (nothing reserved).
    """
    response = _stock_call("/internal/stock/reserve/", {"order_ref": order_ref, "lines": lines})
    if response.status_code in (200, 201):
        return [
            ReservedLine(
                product_id=line["product_id"],
                quantity=line["quantity"],
                title=line["title"],
                sku=line["sku"],
                price=Decimal(line["price"]),
                currency=line["currency"],
            )
            for line in response.json()["lines"]
        ]
    if response.status_code == 404:
        raise ProductsNotFound(response.json()["error"]["details"]["product_ids"])
    if response.status_code == 409:
        raise OutOfStock(details=response.json()["error"]["details"])
    raise DependencyUnavailable("product", reason=f"reserve answered {response.status_code}")


def _close(action: str, order_ref: str) -> dict[str, Any]:
    response = _stock_call(f"/internal/stock/{action}/", {"order_ref": order_ref})
    if response.status_code == 200:
        return response.json()
    if response.status_code in (404, 409):
        raise ReservationClosed(order_ref, response.json()["error"]["code"])
    raise DependencyUnavailable("product", reason=f"{action} answered {response.status_code}")


def commit_stock(*, order_ref: str) -> dict[str, Any]:
    return _close("commit", order_ref)


def release_stock(*, order_ref: str) -> str:
    """Releases the reservation of ``order_ref``; says what the product service did. A product
    service that does not answer is a DependencyUnavailable: orders.outbox retries those."""
    try:
        _close("release", order_ref)
    except ReservationClosed as closed:
        # reservation_not_found: nothing was ever reserved under this reference (a placement whose
        # reservation never arrived); reservation_closed: it was committed, so nothing to release.
        return closed.args[1]
    return "released"


def start_payment(*, order: dict[str, Any], gateway: str | None) -> Answer:
    """The order's payment, started (or found open) by the payment service at this order's amount.

    :raises DependencyUnavailable: the payment service did not answer (or not in the error shape).
    """
    body = {**order, **({"gateway": gateway} if gateway else {})}
    response = internal_request(
        "payment", "POST", "/internal/payments/", json=body, idempotent=True
    )
    try:
        answer = response.json()
    except ValueError:
        answer = None
    if not isinstance(answer, dict) or (response.status_code >= 500 and "error" not in answer):
        raise DependencyUnavailable("payment", reason=f"answered {response.status_code}")
    return Answer(response.status_code, answer)
