"""Stripe Checkout Sessions through the official SDK. ``STRIPE_API_BASE`` points it at the offline
sandbox; unset, it talks to Stripe itself."""

import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import stripe

from payments.currencies import from_minor_units, to_minor_units
from payments.gateways.interface import (
    Checkout,
    CheckoutRequest,
    GatewayUnavailable,
    InvalidSignature,
    MalformedEvent,
    Outcome,
    ProviderEvent,
    ProviderRefund,
    RefundRefused,
    RefundRequest,
    RefundUpdate,
)

logger = logging.getLogger("shop.payments")

# The currencies Stripe takes that the shop offers (Stripe's list of presentment currencies is
# longer; add one here with its row in payments/currencies.py when it is not two-decimal).
CURRENCIES = frozenset(
    [
        "AED",
        "AUD",
        "BHD",
        "BRL",
        "CAD",
        "CHF",
        "CZK",
        "DKK",
        "EUR",
        "GBP",
        "HKD",
        "HUF",
        "INR",
        "JOD",
        "JPY",
        "KRW",
        "KWD",
        "MXN",
        "NOK",
        "NZD",
        "OMR",
        "PLN",
        "SEK",
        "SGD",
        "TND",
        "USD",
        "ZAR",
    ]
)

EVENT_OUTCOMES = {
    "checkout.session.async_payment_succeeded": Outcome.SUCCEEDED,
    "checkout.session.async_payment_failed": Outcome.FAILED,
    "checkout.session.expired": Outcome.EXPIRED,
}


def _our_id(metadata: object, name: str) -> int | None:
    value = metadata.get(name) if isinstance(metadata, dict) else None
    return int(value) if isinstance(value, str) and value.isdigit() else None


def refund_event(event_id: str, kind: str, charge: dict) -> ProviderEvent:
    """``charge.refunded``: the charge with every refund it has; the settled ones are updates.

    :raises MalformedEvent: a refund without an id or with an amount that is not a positive
        whole number (a negative one would make room for more refunds than was captured)."""
    currency = charge.get("currency")
    currency = currency.upper() if isinstance(currency, str) else None
    refunds = charge.get("refunds")
    items = refunds.get("data") if isinstance(refunds, dict) else None
    updates = []
    for item in items if isinstance(items, list) else []:
        amount = item.get("amount") if isinstance(item, dict) else None
        if not isinstance(item, dict) or not isinstance(item.get("id"), str):
            raise MalformedEvent(event_id, kind, "a refund has no id")
        if isinstance(amount, bool) or not isinstance(amount, int) or amount <= 0:
            raise MalformedEvent(event_id, kind, "a refund's amount is not a positive whole number")
        if item.get("status") not in ("succeeded", "failed", "canceled"):
            continue  # pending: a later event settles it
        # Each refund states its own currency (Stripe's refund object); the charge's otherwise.
        refund_currency = item.get("currency")
        refund_currency = refund_currency.upper() if isinstance(refund_currency, str) else currency
        updates.append(
            RefundUpdate(
                reference=item["id"],
                refund_id=_our_id(item.get("metadata"), "refund_id"),
                amount=from_minor_units(amount, refund_currency),
                succeeded=item["status"] == "succeeded",
                currency=refund_currency,
            )
        )
    intent = charge.get("payment_intent")
    refunded = charge.get("amount_refunded")
    return ProviderEvent(
        event_id=event_id,
        type=kind,
        outcome=Outcome.REFUND,
        reference="",
        payment_id=None,
        amount=from_minor_units(refunded, currency) if isinstance(refunded, int) else None,
        currency=currency,
        provider_payment_id=intent if isinstance(intent, str) else "",
        refunds=tuple(updates),
    )


def checked_checkout_event(event: dict) -> tuple[str, str]:
    """The id and type of a verified event whose object has the types the rest relies on.

    :raises MalformedEvent: signed, but not the shape Stripe documents."""
    event_id, kind = event.get("id"), event.get("type")
    if not isinstance(event_id, str) or not event_id or not isinstance(kind, str) or not kind:
        raise MalformedEvent(str(event_id or ""), str(kind or ""), "the event has no id or type")
    data = event.get("data")
    session = data.get("object") if isinstance(data, dict) else None
    if not isinstance(session, dict):
        raise MalformedEvent(event_id, kind, "the event has no data.object")
    expected = {
        "id": (str,),
        "amount_total": (int, type(None)),
        "currency": (str, type(None)),
        "payment_status": (str, type(None)),
        "metadata": (dict, type(None)),
    }
    for field, types in expected.items():
        value = session.get(field)
        if isinstance(value, bool) or not isinstance(value, types):
            raise MalformedEvent(event_id, kind, f"data.object.{field} has the wrong type")
    return event_id, kind


@dataclass(frozen=True)
class StripeConfig:
    secret_key: str
    webhook_secret: str
    api_base: str  # empty: Stripe itself
    timeout_seconds: float
    # Seconds a webhook's signature timestamp may be off, in either direction.
    webhook_tolerance: int


class StripeCheckoutGateway:
    name = "stripe"
    currencies = CURRENCIES

    def __init__(self, config: StripeConfig) -> None:
        self.config = config
        self.client = stripe.StripeClient(
            config.secret_key or "sk_test_missing",
            base_addresses={"api": config.api_base} if config.api_base else None,
            max_network_retries=2,  # Stripe's own retries, with idempotency keys
            http_client=stripe.HTTPXClient(timeout=config.timeout_seconds, allow_sync_methods=True),
        )

    def create_checkout(self, request: CheckoutRequest) -> Checkout:
        if not self.config.secret_key:
            raise GatewayUnavailable("STRIPE_SECRET_KEY is not set")
        params = {
            "mode": "payment",
            "client_reference_id": str(request.order_id),
            "metadata": {
                "payment_id": str(request.payment_id),
                "order_number": request.order_number,
            },
            "line_items": [
                {
                    "quantity": 1,
                    "price_data": {
                        "currency": request.currency.lower(),
                        "unit_amount": to_minor_units(request.amount, request.currency),
                        "product_data": {"name": request.description},
                    },
                }
            ],
            # Stripe puts the session's id where the template says (the landing page reads it).
            "success_url": f"{request.success_url}?session_id={{CHECKOUT_SESSION_ID}}",
            "cancel_url": f"{request.cancel_url}?session_id={{CHECKOUT_SESSION_ID}}",
        }
        try:
            session = self.client.v1.checkout.sessions.create(
                params=params, options={"idempotency_key": request.idempotency_key}
            )
        except stripe.StripeError as error:
            logger.error("Stripe refused the checkout of payment %s: %s", request.payment_id, error)
            raise GatewayUnavailable(str(error)) from error
        return Checkout(reference=session.id, url=session.url)

    def verify_signature(self, payload: bytes, headers: Mapping[str, str]) -> None:
        """The SDK's check of ``Stripe-Signature`` (no parsing of the body), and a timestamp
        within the tolerance on either side: the SDK bounds only the past."""
        header = headers.get("Stripe-Signature")
        tolerance = self.config.webhook_tolerance
        try:
            stripe.WebhookSignature.verify_header(
                payload, header, self.config.webhook_secret, tolerance
            )
        except (ValueError, stripe.SignatureVerificationError) as error:
            raise InvalidSignature(str(error)) from error
        signed_at = _signed_at(header or "")
        if signed_at is None or signed_at > time.time() + tolerance:
            raise InvalidSignature("the signature's timestamp is in the future")

    def read_event(self, document: dict, headers: Mapping[str, str]) -> ProviderEvent:
        event_id, kind = checked_checkout_event(document)
        if kind == "charge.refunded":
            return refund_event(event_id, kind, document["data"]["object"])
        return self._reduce(event_id, kind, document["data"]["object"])

    def refund(self, request: RefundRequest) -> ProviderRefund:
        params = {
            "payment_intent": request.provider_payment_id,
            "amount": to_minor_units(request.amount, request.currency),
            # Stripe's own reason is an enum; ours goes in the metadata with our ids.
            "metadata": {
                "refund_id": str(request.refund_id),
                "payment_id": str(request.payment_id),
                "reason": request.reason[:500],
            },
        }
        try:
            refund = self.client.v1.refunds.create(
                params=params, options={"idempotency_key": request.idempotency_key}
            )
        except stripe.InvalidRequestError as error:
            raise RefundRefused(str(error)) from error
        except stripe.StripeError as error:
            raise GatewayUnavailable(str(error)) from error
        return ProviderRefund(reference=refund.id)

    def fetch_refund(self, reference: str) -> RefundUpdate | None:
        try:
            refund = self.client.v1.refunds.retrieve(reference)
        except stripe.StripeError as error:
            raise GatewayUnavailable(str(error)) from error
        if refund.status not in ("succeeded", "failed", "canceled"):
            return None
        currency = (getattr(refund, "currency", None) or "").upper() or None
        return RefundUpdate(
            reference=refund.id,
            refund_id=_our_id(getattr(refund, "metadata", None), "refund_id"),
            amount=from_minor_units(getattr(refund, "amount", None), currency),
            succeeded=refund.status == "succeeded",
            currency=currency,
        )

    def fetch_checkout(self, reference: str) -> ProviderEvent:
        try:
            session = self.client.v1.checkout.sessions.retrieve(reference)
        except stripe.StripeError as error:
            raise GatewayUnavailable(str(error)) from error
        if session.status == "complete" and session.payment_status == "paid":
            kind = "checkout.session.completed"
        elif session.status == "expired":
            kind = "checkout.session.expired"
        else:
            kind = "checkout.session.open"
        return self._reduce(f"reconcile:{session.id}:{session.status}", kind, session.to_dict())

    def _reduce(self, event_id: str, kind: str, session: Mapping[str, Any]) -> ProviderEvent:
        if kind == "checkout.session.completed":
            paid = session.get("payment_status") == "paid"
            outcome = Outcome.SUCCEEDED if paid else Outcome.PENDING
        else:
            outcome = EVENT_OUTCOMES.get(kind, Outcome.IGNORED)
        currency = (session.get("currency") or "").upper() or None
        intent = session.get("payment_intent")
        return ProviderEvent(
            event_id=event_id,
            type=kind,
            outcome=outcome,
            reference=session.get("id") or "",
            payment_id=_our_id(session.get("metadata"), "payment_id"),
            amount=from_minor_units(session.get("amount_total"), currency),
            currency=currency,
            provider_payment_id=intent if isinstance(intent, str) else "",
        )


def _signed_at(header: str) -> int | None:
    """The ``t=`` of a Stripe-Signature header the SDK has accepted."""
    for part in header.split(","):
        key, _, value = part.strip().partition("=")
        if key == "t":
            return int(value) if value.isdigit() else None
    return None
