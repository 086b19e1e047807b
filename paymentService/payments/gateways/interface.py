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
    REFUND = "refund"  # a refund of the payment succeeded or failed (``ProviderEvent.refunds``)


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
class RefundRequest:
    refund_id: int
    payment_id: int
    provider_payment_id: str  # Stripe's PaymentIntent, Razorpay's pay_...
    amount: Decimal
    currency: str
    reason: str
    idempotency_key: str


@dataclass(frozen=True)
class ProviderRefund:
    reference: str  # the provider's refund id (re_..., rfnd_...)


@dataclass(frozen=True)
class RefundUpdate:
    """What an event says about one refund: ours (``refund_id`` from its metadata or notes) or one
    made at the provider's dashboard (``refund_id`` None)."""

    reference: str
    refund_id: int | None
    amount: Decimal | None
    succeeded: bool
    # The refund's currency as the provider states it (ISO 4217, upper case; None: not stated).
    currency: str | None = None


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
    refunds: tuple[RefundUpdate, ...] = ()


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


class RefundRefused(Exception):
    """The provider refused the refund itself (more than is left, a payment it cannot refund):
    retrying changes nothing."""


class PaymentGateway(Protocol):
    name: str
    # The currencies it takes (ISO 4217 codes, upper case): another is refused at initiation.
    currencies: frozenset[str]

    def create_checkout(self, request: CheckoutRequest) -> Checkout: ...

    def verify_signature(self, payload: bytes, headers: Mapping[str, str]) -> None:
        """Whether ``headers`` carry the provider's valid signature of ``payload``, without
        parsing it (a signed body is still hostile input: the service reads it with the limits of
        every endpoint before ``read_event``).

        :raises InvalidSignature: not from the provider, changed, or signed too long ago or ahead."""
        ...

    def read_event(self, document: dict, headers: Mapping[str, str]) -> ProviderEvent:
        """The event a verified, parsed body holds.

        :raises InvalidSignature: dated outside the tolerance (a provider that signs no time).
        :raises MalformedEvent: signed, but not the shape the provider documents."""
        ...

    def fetch_checkout(self, reference: str) -> ProviderEvent: ...

    def fetch_refund(self, reference: str) -> RefundUpdate | None:
        """The provider's word on one refund (``reference``: its id): settled either way, or None
        while it is still pending. For reconciliation when the webhook was lost.

        :raises GatewayUnavailable: not reached."""
        ...

    def refund(self, request: RefundRequest) -> ProviderRefund:
        """Asks the provider to give ``request.amount`` back; its webhook confirms it.

        :raises GatewayUnavailable: not reached (retry with the same idempotency key).
        :raises RefundRefused: the provider said no."""
        ...
