"""Razorpay Payment Links through the official SDK (``razorpay``): the hosted-page flow that matches
Stripe Checkout. ``RAZORPAY_API_BASE`` points it at the offline sandbox; unset, it talks to Razorpay.

Webhooks are signed with ``X-Razorpay-Signature``, HMAC-SHA256 of the raw body with the webhook
secret, checked by the SDK's own ``utility.verify_webhook_signature``; each delivery names its event
in ``X-Razorpay-Event-Id``. The signature has no timestamp, so an event whose signed ``created_at``
is more than the tolerance (``RAZORPAY_WEBHOOK_TOLERANCE``) before or after now is refused.
"""

import hashlib
import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

import razorpay

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

# The currencies Razorpay takes that the shop offers (Razorpay's international list is longer).
CURRENCIES = frozenset(
    [
        "AED",
        "AUD",
        "BHD",
        "CAD",
        "CHF",
        "DKK",
        "EUR",
        "GBP",
        "HKD",
        "INR",
        "JPY",
        "KWD",
        "MYR",
        "NOK",
        "NZD",
        "OMR",
        "QAR",
        "SAR",
        "SEK",
        "SGD",
        "USD",
    ]
)

# What each link event means for the payment. payment.failed is one attempt on a link that stays
# open (the person may try again on the same page), so it changes nothing.
EVENT_OUTCOMES = {
    "payment_link.paid": Outcome.SUCCEEDED,
    "payment_link.cancelled": Outcome.FAILED,
    "payment_link.expired": Outcome.EXPIRED,
}
REFUND_EVENTS = {"refund.processed": True, "refund.failed": False}
LINK_STATUS_EVENTS = {
    "paid": "payment_link.paid",
    "cancelled": "payment_link.cancelled",
    "expired": "payment_link.expired",
}
SDK_ERRORS = (
    razorpay.errors.BadRequestError,
    razorpay.errors.GatewayError,
    razorpay.errors.ServerError,
    OSError,  # requests' connection errors and timeouts
    ValueError,  # an answer that is not JSON
)


def reference_id(idempotency_key: str) -> str:
    """Razorpay has no idempotency header for links, but a reference_id is unique per account (at
    most 40 characters): the payment's key, so a retried creation finds the first link."""
    if len(idempotency_key) <= 40:
        return idempotency_key
    return hashlib.sha256(idempotency_key.encode()).hexdigest()[:40]


def _entity(payload: dict[str, Any], name: str) -> dict[str, Any] | None:
    wrapper = payload.get(name)
    entity = wrapper.get("entity") if isinstance(wrapper, dict) else None
    return entity if isinstance(entity, dict) else None


def _notes(entity: Mapping[str, Any]) -> Mapping[str, Any]:
    notes = entity.get("notes")
    return notes if isinstance(notes, dict) else {}  # Razorpay sends [] for no notes


def _id_in(notes: Mapping[str, Any], name: str) -> int | None:
    value = notes.get(name)
    return int(value) if isinstance(value, str | int) and str(value).isdigit() else None


def checked_event(body: dict[str, Any], event_id: str) -> tuple[str, dict[str, Any]]:
    """The type and ``payload`` object of a verified event of the shape Razorpay documents.

    :raises MalformedEvent: signed, but not that shape."""
    kind = body.get("event")
    if not isinstance(kind, str) or not kind:
        raise MalformedEvent(event_id, "", "the event has no type")
    if not event_id:
        raise MalformedEvent("", kind, "the delivery has no X-Razorpay-Event-Id")
    created = body.get("created_at")
    if isinstance(created, bool) or not isinstance(created, int):
        raise MalformedEvent(event_id, kind, "created_at is not a timestamp")
    inner = body.get("payload")
    if not isinstance(inner, dict):
        raise MalformedEvent(event_id, kind, "the event has no payload")
    if kind in REFUND_EVENTS:
        refund = _entity(inner, "refund")
        if refund is None:
            raise MalformedEvent(event_id, kind, "payload.refund.entity is missing")
        for field, kind_of in {"id": str, "amount": int, "payment_id": str}.items():
            value = refund.get(field)
            if isinstance(value, bool) or not isinstance(value, kind_of):
                raise MalformedEvent(event_id, kind, f"refund.{field} has the wrong type")
        if refund["amount"] <= 0:
            raise MalformedEvent(event_id, kind, "refund.amount is not positive")
    if kind in EVENT_OUTCOMES:
        link = _entity(inner, "payment_link")
        if link is None:
            raise MalformedEvent(event_id, kind, "payload.payment_link.entity is missing")
        expected = {"id": str, "amount": int, "amount_paid": int, "currency": str}
        for field, kind_of in expected.items():
            value = link.get(field)
            if isinstance(value, bool) or not isinstance(value, kind_of):
                raise MalformedEvent(event_id, kind, f"payment_link.{field} has the wrong type")
    return kind, inner


@dataclass(frozen=True)
class RazorpayConfig:
    key_id: str
    key_secret: str
    webhook_secret: str
    api_base: str  # empty: Razorpay itself
    timeout_seconds: float
    # Seconds an event's signed created_at may be off, in either direction.
    webhook_tolerance: int


class RazorpayPaymentLinksGateway:
    name = "razorpay"
    currencies = CURRENCIES

    def __init__(self, config: RazorpayConfig) -> None:
        self.config = config
        options = {"base_url": config.api_base} if config.api_base else {}
        self.client = razorpay.Client(auth=(config.key_id, config.key_secret), **options)
        self.client.set_app_details({"title": "shop-payment-service", "version": "1"})
        self.timeout = config.timeout_seconds

    def create_checkout(self, request: CheckoutRequest) -> Checkout:
        if not (self.config.key_id and self.config.key_secret):
            raise GatewayUnavailable("RAZORPAY_KEY_ID and RAZORPAY_KEY_SECRET are not set")
        reference = reference_id(request.idempotency_key)
        params = {
            "amount": to_minor_units(request.amount, request.currency),
            "currency": request.currency.upper(),
            "accept_partial": False,
            "reference_id": reference,
            "description": request.description,
            "notes": {
                "payment_id": str(request.payment_id),
                "order_id": str(request.order_id),
                "order_number": request.order_number,
            },
            "callback_url": request.success_url,
            "callback_method": "get",
        }
        try:
            link = self.client.payment_link.create(params, timeout=self.timeout)
        except razorpay.errors.BadRequestError as error:
            link = self._link_with_reference(reference)
            if link is None:
                logger.error(
                    "Razorpay refused the link of payment %s: %s", request.payment_id, error
                )
                raise GatewayUnavailable(str(error)) from error
        except SDK_ERRORS as error:
            logger.error("Razorpay failed the link of payment %s: %s", request.payment_id, error)
            raise GatewayUnavailable(str(error)) from error
        return Checkout(reference=link["id"], url=link["short_url"])

    def _link_with_reference(self, reference: str) -> dict[str, Any] | None:
        """The link an earlier attempt created (a retry after a lost answer), if any."""
        try:
            found = self.client.payment_link.all({"reference_id": reference}, timeout=self.timeout)
        except SDK_ERRORS:
            return None
        links = found.get("payment_links") if isinstance(found, dict) else None
        return links[0] if links else None

    def verify_signature(self, payload: bytes, headers: Mapping[str, str]) -> None:
        signature = headers.get("X-Razorpay-Signature")
        if not signature:
            raise InvalidSignature("no X-Razorpay-Signature header")
        try:
            self.client.utility.verify_webhook_signature(
                payload.decode("utf-8"), signature, self.config.webhook_secret
            )
        except (UnicodeDecodeError, razorpay.errors.SignatureVerificationError) as error:
            raise InvalidSignature(str(error)) from error

    def read_event(self, document: dict, headers: Mapping[str, str]) -> ProviderEvent:
        """The signature has no timestamp, so the event's own signed ``created_at`` must be
        within the tolerance of now, on either side."""
        event_id = (headers.get("X-Razorpay-Event-Id") or "")[:255]
        kind, inner = checked_event(document, event_id)
        age = time.time() - document["created_at"]
        if age > self.config.webhook_tolerance:
            raise InvalidSignature(f"the event is {int(age)} s old (stale)")
        if -age > self.config.webhook_tolerance:
            raise InvalidSignature(f"the event is dated {int(-age)} s in the future")
        return self._reduce(event_id, kind, inner)

    def fetch_checkout(self, reference: str) -> ProviderEvent:
        try:
            link = self.client.payment_link.fetch(reference, timeout=self.timeout)
        except SDK_ERRORS as error:
            raise GatewayUnavailable(str(error)) from error
        status = link.get("status", "")
        kind = LINK_STATUS_EVENTS.get(status, f"payment_link.{status or 'unknown'}")
        payments = link.get("payments") or []
        captured = [p for p in payments if isinstance(p, dict) and p.get("status") == "captured"]
        inner: dict[str, Any] = {"payment_link": {"entity": link}}
        if captured:
            inner["payment"] = {"entity": {"id": captured[-1].get("payment_id", "")}}
        event = self._reduce(f"reconcile:{reference}:{status}", kind, inner)
        if event.outcome == Outcome.IGNORED:  # created, partially paid: still open
            return replace(event, outcome=Outcome.PENDING)
        return event

    def fetch_refund(self, reference: str) -> RefundUpdate | None:
        try:
            refund = self.client.refund.fetch(reference, timeout=self.timeout)
        except SDK_ERRORS as error:
            raise GatewayUnavailable(str(error)) from error
        if refund.get("status") not in ("processed", "failed"):
            return None  # pending
        currency = str(refund.get("currency") or "").upper() or None
        return RefundUpdate(
            reference=refund["id"],
            refund_id=_id_in(_notes(refund), "refund_id"),
            amount=from_minor_units(refund.get("amount"), currency),
            succeeded=refund["status"] == "processed",
            currency=currency,
        )

    def refund(self, request: RefundRequest) -> ProviderRefund:
        """Razorpay has no idempotency key for refunds: a refund of ours already there (a retry
        after a lost answer) is found by the refund id in its notes before another is made."""
        notes = {
            "refund_id": str(request.refund_id),
            "payment_id": str(request.payment_id),
            "reason": request.reason[:250],
        }
        try:
            earlier = self.client.payment.fetch_multiple_refund(
                request.provider_payment_id, {}, timeout=self.timeout
            )
            for item in earlier.get("items") or []:
                if _notes(item).get("refund_id") == notes["refund_id"]:
                    return ProviderRefund(reference=item["id"])
            refund = self.client.payment.refund(
                request.provider_payment_id,
                {
                    "amount": to_minor_units(request.amount, request.currency),
                    "notes": notes,
                    "receipt": reference_id(request.idempotency_key),
                },
                timeout=self.timeout,
            )
        except razorpay.errors.BadRequestError as error:
            raise RefundRefused(str(error)) from error
        except SDK_ERRORS as error:
            raise GatewayUnavailable(str(error)) from error
        return ProviderRefund(reference=refund["id"])

    def _reduce(self, event_id: str, kind: str, inner: dict[str, Any]) -> ProviderEvent:
        if kind in REFUND_EVENTS:
            refund = _entity(inner, "refund") or {}
            currency = str(refund.get("currency") or "").upper() or None
            amount = from_minor_units(refund["amount"], currency)
            return ProviderEvent(
                event_id=event_id,
                type=kind,
                outcome=Outcome.REFUND,
                reference="",
                payment_id=None,
                amount=amount,
                currency=currency,
                provider_payment_id=refund["payment_id"],
                refunds=(
                    RefundUpdate(
                        reference=refund["id"],
                        refund_id=_id_in(_notes(refund), "refund_id"),
                        amount=amount,
                        succeeded=REFUND_EVENTS[kind],
                        currency=currency,
                    ),
                ),
            )
        link = _entity(inner, "payment_link") or {}
        payment = _entity(inner, "payment") or {}
        currency = link.get("currency") or payment.get("currency")
        currency = currency.upper() if isinstance(currency, str) else None
        paid = link.get("amount_paid")
        provider_payment_id = payment.get("id")
        return ProviderEvent(
            event_id=event_id,
            type=kind,
            outcome=EVENT_OUTCOMES.get(kind, Outcome.IGNORED),
            reference=link.get("id") or "",
            payment_id=_id_in(_notes(link) or _notes(payment), "payment_id"),
            amount=from_minor_units(paid, currency) if isinstance(paid, int) else None,
            currency=currency,
            provider_payment_id=provider_payment_id if isinstance(provider_payment_id, str) else "",
        )
