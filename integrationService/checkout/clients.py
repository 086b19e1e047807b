"""Calls to the other services on the caller's behalf: their bearer token and request id go along,
with this service's own token in ``X-Shop-Service-Token`` (so that the service called takes the
request's deadline), every call has the shared client's timeouts, and a service that is down is a
503 naming it."""

from typing import Any

from shop_common.service_client import Answer, service_client
from shop_common.service_tokens import on_behalf_headers


def call(
    service: str,
    method: str,
    path: str,
    *,
    token: str,
    idempotent: bool | None = None,
    **kwargs: Any,
) -> Answer:
    headers = {
        **kwargs.pop("headers", {}),
        **on_behalf_headers(),
        "Authorization": f"Bearer {token}",
    }
    response = service_client(service).request(
        method, path, headers=headers, idempotent=idempotent, **kwargs
    )
    try:
        body = response.json()
    except ValueError:
        body = {
            "error": {
                "code": "bad_gateway",
                "message": f"The {service} service answered without JSON.",
                "details": {},
            }
        }
    return Answer(response.status_code, body)


def add_to_cart(token: str, body: dict) -> Answer:
    return call("cart", "POST", "/api/cart/add/", token=token, json=body)


def begin_checkout(token: str, key: str) -> Answer:
    # Safe to retry: the cart answers its one checkout again.
    return call(
        "cart", "POST", "/api/cart/checkout/", token=token, json={"key": key}, idempotent=True
    )


def complete_checkout(token: str, key: str, order: dict) -> Answer:
    body = {"key": key, "order_id": order["id"], "order_number": order["order_number"]}
    return call(
        "cart", "POST", "/api/cart/checkout/complete/", token=token, json=body, idempotent=True
    )


def cancel_checkout(token: str, key: str) -> Answer:
    return call(
        "cart",
        "POST",
        "/api/cart/checkout/cancel/",
        token=token,
        json={"key": key},
        idempotent=True,
    )


def read_order(token: str, order_id: int) -> Answer:
    return call("order", "GET", f"/orders/{order_id}/", token=token)


def place_order(token: str, body: dict, *, idempotency_key: str) -> Answer:
    # Safe to retry: the order service answers a repeated key with the same order.
    return call(
        "order",
        "POST",
        "/orders/",
        token=token,
        json=body,
        idempotent=True,
        headers={"Idempotency-Key": idempotency_key},
    )


def newest_pending_order(token: str) -> Answer:
    return call(
        "order",
        "GET",
        "/orders/history/",
        token=token,
        params={"status": "PENDING", "page_size": 1},
    )


def initiate_payment(token: str, order_id: int, *, gateway: str | None = None) -> Answer:
    # Safe to retry: a second initiation returns the open payment.
    body = {"order_id": order_id, **({"gateway": gateway} if gateway else {})}
    return call("payment", "POST", "/service/", token=token, json=body, idempotent=True)
