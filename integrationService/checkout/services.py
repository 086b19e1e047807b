"""The integration service's flows. It keeps no shop data: only the first answer to keyed requests."""

import contextlib
import logging
import secrets
from collections.abc import Callable
from typing import NoReturn

from django.conf import settings
from django.db import IntegrityError

from checkout import clients
from checkout.exceptions import (
    CartCheckedOut,
    CartCheckoutUnderWay,
    CartEmpty,
    Downstream,
    NoPendingOrder,
)
from checkout.models import IdempotencyRecord
from shop_common import deadlines
from shop_common.error_handlers import status_and_error
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


def place_order(
    *, user_id: int, token: str, body: dict, client_key: str | None, payment: dict | None = None
) -> dict:
    """Places the caller's cart as one order, then empties it. Answers the order, with
    ``cart_cleared: false`` if the cart could not be emptied (the order stands). With ``payment``
    (``{"gateway"?}``) the order service also starts the order's payment once it is placed and
    answers it under ``payment`` (or ``payment_error``); an order found through the cart (placed
    before) has neither.

    The cart names its checkout's key (the first caller's): every checkout of the cart places under
    it, so concurrent checkouts with any keys make one order, and a retry after any failure finds
    it. Nothing is locked while another service answers.

    :raises CartEmpty: no lines and no checkout.
    :raises CartCheckedOut: another checkout of this cart placed its order (409 naming it).
    :raises CartCheckoutUnderWay: another checkout of this cart is placing its order now (409).
    """
    key = client_key or "cart-" + secrets.token_urlsafe(24)
    checkout = clients.begin_checkout(token, key)
    if not checkout.ok:
        raise Downstream(checkout.status, checkout.body)
    cart = checkout.body
    if cart["order_id"] is not None:
        if cart["key"] != key:
            raise CartCheckedOut(cart["order_id"], cart["order_number"])
        return _placed_before(token, cart["order_id"])
    if cart["under_way"] and cart["key"] != key:
        # Its order does not exist yet, so it cannot be named; a second placement beside the
        # first would only make the product service price and reserve twice.
        raise CartCheckoutUnderWay()
    if not cart["items"]:
        raise CartEmpty()
    order_body = {
        "items": [
            {"product_id": line["product_id"], "quantity": line["quantity"]}
            for line in cart["items"]
        ],
        **body,
        **({"payment": payment} if payment is not None else {}),
    }
    placed = _place_leaving_time_to_empty_the_cart(token, order_body, key=cart["key"])
    if not placed.ok:
        _refused(token, key=cart["key"], answer=placed)
    order = dict(placed.body)
    try:
        cleared = clients.complete_checkout(token, cart["key"], order).ok
    except DependencyUnavailable:
        cleared = False
    if not cleared:
        logger.warning(
            "Order %s was placed but the cart could not be emptied", order.get("order_number")
        )
    order["cart_cleared"] = cleared
    return order


# Of the request's budget, what the placement (and the payment the order service starts with it)
# leaves for emptying the cart: a slow payment start that took it all left the cart holding the
# lines that became the order, and the customer's next checkout was refused as that order's.
CART_COMPLETION_RESERVE_SECONDS = 1.0


def _place_leaving_time_to_empty_the_cart(token: str, body: dict, *, key: str) -> clients.Answer:
    deadline = deadlines.current_deadline()
    reserve = CART_COMPLETION_RESERVE_SECONDS
    with deadlines.budget(None, deadline=deadline - reserve if deadline is not None else None):
        return clients.place_order(token, body, idempotency_key=key)


def _placed_before(token: str, order_id: int) -> dict:
    """The order this key's checkout placed, its answer lost (a crash, an outage): the same order
    again, never ``cart_empty``."""
    order = clients.read_order(token, order_id)
    if not order.ok:
        raise Downstream(order.status, order.body)
    return {**order.body, "cart_cleared": True}


def _refused(token: str, *, key: str, answer: clients.Answer) -> NoReturn:
    """The order service's refusal, passed on. A refusal (4xx) ends the cart's checkout, so the next
    one is new; a 5xx or no answer may hide a placed order, so the checkout stays for the retry."""
    error = answer.body.get("error", {}) if isinstance(answer.body, dict) else {}
    if error.get("code") == IdempotencyKeyReused.default_code:
        # The cart's checkout placed its order with another body (another caller's address).
        raise CartCheckedOut(error.get("details", {}).get("order_id"))
    if 400 <= answer.status < 500:
        with contextlib.suppress(DependencyUnavailable):
            clients.cancel_checkout(token, key)
    raise Downstream(answer.status, answer.body)


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
    """Place and pay: the order service starts the payment once the order is placed. If the payment
    cannot be started, the order stands (PENDING) and the answer says why under ``payment_error``;
    POST /payment/initiate/ pays it later. ``body.gateway`` goes to the payment, not to the order's
    own fields."""
    gateway = body.get("gateway")
    check_gateway(gateway)  # an order the chosen gateway could never pay is not placed
    order_body = {name: value for name, value in body.items() if name != "gateway"}
    # The order service starts the payment itself: the payment service takes the amount from it
    # without reading the order back.
    order = place_order(
        user_id=user_id,
        token=token,
        body=order_body,
        client_key=client_key,
        payment={"gateway": gateway} if gateway else {},
    )
    payment, problem = _payment_of(order, token=token, gateway=gateway)
    if payment is None:
        logger.warning(
            "Order %s placed; its payment could not be started: %s",
            order.get("order_number"),
            problem["error"]["code"],
        )
        return 201, {"order": order, "payment": None, "payment_error": problem}
    return 201, {"order": order, "payment": payment}


def _payment_of(order: dict, *, token: str, gateway: str | None) -> tuple[dict | None, dict | None]:
    """The payment the order service started with ``order`` (taken out of it), or, for an order
    found through the cart, the one started (or found open) as initiation does; else None and
    why: ``{"status", "error"}``."""
    if "payment" in order:
        return order.pop("payment"), order.pop("payment_error", None)
    try:
        return initiate_payment(token=token, order_id=order["id"], gateway=gateway)[1], None
    except (DependencyUnavailable, Downstream) as failure:
        return None, status_and_error(failure)
