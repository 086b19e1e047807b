"""The integration service's flows. It keeps no shop data: only the first answer to keyed requests."""

import contextlib
import logging
from collections.abc import Callable

from django.conf import settings
from django.db import IntegrityError

from checkout import clients
from checkout.exceptions import CartEmpty, Downstream, NoPendingOrder
from checkout.models import IdempotencyRecord
from shop_common.error_handlers import error_body
from shop_common.errors import DependencyUnavailable, GatewayNotAvailable, IdempotencyKeyReused
from shop_common.idempotency import fingerprint

logger = logging.getLogger("shop.checkout")


def remembered(
    *, user_id: int, endpoint: str, key: str | None, body: dict, run: Callable[[], tuple[int, dict]]
) -> tuple[int, dict]:
    """Runs ``run`` once per (user, endpoint, key): a retry with the same key and body gets the
    first answer; the same key with another body is a 422. Without a key, just runs it."""
    if not key:
        return run()
    body_fingerprint = fingerprint(body)
    record = IdempotencyRecord.objects.filter(user_id=user_id, endpoint=endpoint, key=key).first()
    if record is not None:
        if record.request_hash != body_fingerprint:
            raise IdempotencyKeyReused(details={"endpoint": endpoint})
        return record.status_code, record.response_body
    status_code, answer = run()
    # A concurrent retry may have stored its answer first; both answers come from one order.
    with contextlib.suppress(IntegrityError):
        IdempotencyRecord.objects.create(
            user_id=user_id,
            endpoint=endpoint,
            key=key,
            request_hash=body_fingerprint,
            status_code=status_code,
            response_body=answer,
        )
    return status_code, answer


def cart_key(*, user_id: int, cart: dict, body: dict) -> str:
    """The order's Idempotency-Key when the client sends none: the same cart placed again with the
    same details is the same order, so a retried call cannot make a second one."""
    # Line ids change when a cart is emptied and filled again, so buying the same thing twice is two
    # orders, while retrying with the same (uncleared) cart is one.
    lines = sorted((line["id"], line["product_id"], line["quantity"]) for line in cart["items"])
    return (
        "cart-"
        + fingerprint({"user": user_id, "cart": cart["id"], "lines": lines, "body": body})[:40]
    )


def place_order(*, user_id: int, token: str, body: dict, client_key: str | None) -> dict:
    """Reads the caller's cart, places the order with its lines, then empties the cart. Answers the
    order, with ``cart_cleared: false`` if the cart could not be emptied (the order stands)."""
    cart = clients.read_cart(token)
    if not cart.ok:
        raise Downstream(cart.status, cart.body)
    if not cart.body["items"]:
        raise CartEmpty()
    order_body = {
        "items": [
            {"product_id": line["product_id"], "quantity": line["quantity"]}
            for line in cart.body["items"]
        ],
        **body,
    }
    key = client_key or cart_key(user_id=user_id, cart=cart.body, body=body)
    placed = clients.place_order(token, order_body, idempotency_key=key)
    if not placed.ok:
        raise Downstream(placed.status, placed.body)  # the cart is untouched
    order = dict(placed.body)
    try:
        cleared = clients.clear_cart(token).ok
    except DependencyUnavailable:
        cleared = False
    if not cleared:
        logger.warning(
            "Order %s was placed but the cart could not be emptied", order.get("order_number")
        )
    order["cart_cleared"] = cleared
    return order


def check_gateway(gateway: str | None) -> None:
    """:raises GatewayNotAvailable: ``gateway`` is not one the payment service offers."""
    if gateway and gateway not in settings.PAYMENT_GATEWAYS:
        raise GatewayNotAvailable(gateway, settings.PAYMENT_GATEWAYS)


def initiate_payment(
    *, token: str, order_id: int | None, gateway: str | None = None
) -> tuple[int, dict]:
    """Starts the payment of ``order_id``, or of the caller's newest PENDING order, with
    ``gateway`` (the payment service's default when None).

    :raises GatewayNotAvailable: before anything is asked."""
    check_gateway(gateway)
    if order_id is None:
        pending = clients.newest_pending_order(token)
        if not pending.ok:
            raise Downstream(pending.status, pending.body)
        if not pending.body["results"]:
            raise NoPendingOrder()
        order_id = pending.body["results"][0]["id"]
    payment = clients.initiate_payment(token, order_id, gateway=gateway)
    if not payment.ok:
        raise Downstream(payment.status, payment.body)
    return payment.status, payment.body


def checkout(*, user_id: int, token: str, body: dict, client_key: str | None) -> tuple[int, dict]:
    """Place, then pay. If the payment cannot be started, the order stands (PENDING) and the answer
    says why under ``payment_error``; POST /payment/initiate/ pays it later. ``body.gateway`` goes to
    the payment, not to the order."""
    gateway = body.get("gateway")
    check_gateway(gateway)  # an order the chosen gateway could never pay is not placed
    order_body = {name: value for name, value in body.items() if name != "gateway"}
    order = place_order(user_id=user_id, token=token, body=order_body, client_key=client_key)
    try:
        _, payment = initiate_payment(token=token, order_id=order["id"], gateway=gateway)
        return 201, {"order": order, "payment": payment}
    except (DependencyUnavailable, Downstream) as failure:
        logger.warning(
            "Order %s placed; its payment could not be started: %s",
            order.get("order_number"),
            failure.code,
        )
        problem = {
            "status": failure.status_code,
            **error_body(failure.code, failure.message, failure.details),
        }
        return 201, {"order": order, "payment": None, "payment_error": problem}
