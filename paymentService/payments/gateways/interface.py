"""What a payment gateway is, to the rest of the payment service (Saleor's payment interface idea):
small typed values in, small typed values out. Views never touch a provider's SDK."""

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import Protocol


class Outcome(StrEnum):
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    EXPIRED = "expired"
    PENDING = "pending"  # e.g. a completed checkout whose asynchronous payment is not settled yet
    IGNORED = "ignored"  # an event type we do not act on


@dataclass(frozen=True)
class CheckoutRequest:
    payment_id: int
    order_id: int
    order_number: str
    amount: Decimal
    currency: str
    description: str
    success_url: str  # the landing pages; each gateway adds the query it fills in
    cancel_url: str
    idempotency_key: str


@dataclass(frozen=True)
class Checkout:
    reference: str
    url: str


@dataclass(frozen=True)
class ProviderEvent:
    """A verified event, reduced to what the payment service acts on."""

    event_id: str
    type: str
    outcome: Outcome
    reference: str
    payment_id: int | None
    amount: Decimal | None
    currency: str | None
    # The provider's own payment (Stripe's PaymentIntent, Razorpay's pay_...), once there is one.
    provider_payment_id: str = ""


class InvalidSignature(Exception):
    """The event did not come from the provider (or was changed, or is too old)."""


class MalformedEvent(Exception):
    """A correctly signed event whose content is not what the provider documents (no object,
    wrong types): the client's fault, recorded as rejected, never applied."""

    def __init__(self, event_id: str, type: str, reason: str) -> None:
        super().__init__(reason)
        self.event_id = event_id
        self.type = type
        self.reason = reason


class GatewayUnavailable(Exception):
    """The provider could not be reached or refused to work; retry later."""


class PaymentGateway(Protocol):
    name: str
    # The currencies it takes (ISO 4217 codes, upper case): another is refused at initiation.
    currencies: frozenset[str]

    def create_checkout(self, request: CheckoutRequest) -> Checkout: ...

    def verify_event(self, payload: bytes, headers: Mapping[str, str]) -> ProviderEvent:
        """The event in ``payload`` if ``headers`` carry the provider's valid signature.

        :raises InvalidSignature: not from the provider, changed, or too old.
        :raises MalformedEvent: signed, but not the shape the provider documents."""
        ...

    def fetch_checkout(self, reference: str) -> ProviderEvent: ...
