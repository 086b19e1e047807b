"""What receiving a provider's event did: stored on its ``WebhookEvent`` row (``outcome``), answered
to the provider, and counted in ``shop_webhook_events_total``."""

from dataclasses import dataclass
from enum import StrEnum


class EventOutcome(StrEnum):
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    EXPIRED = "expired"
    PENDING = "pending"  # paid by an asynchronous method not settled yet: a later event says
    IGNORED = "ignored"  # a type we do not act on
    UNKNOWN_PAYMENT = "unknown_payment"
    AMOUNT_MISMATCH = "amount_mismatch"  # NEEDS_REFUND, refunded automatically
    # Providers do not promise order: these changed nothing.
    ALREADY_SUCCEEDED = "already_succeeded"
    ALREADY_NEEDS_REFUND = "already_needs_refund"
    ALREADY_PARTIALLY_REFUNDED = "already_partially_refunded"
    ALREADY_REFUNDED = "already_refunded"
    ALREADY_CLOSED = "already_closed"
    STALE_EVENT = "stale_event"
    # Refund events.
    PARTIALLY_REFUNDED = "partially_refunded"
    REFUNDED = "refunded"
    REFUND_UNCHANGED = "refund_unchanged"
    REFUND_CURRENCY_MISMATCH = "refund_currency_mismatch"  # stated in another currency: not counted
    REFUND_REJECTED = "refund_rejected"  # past what was captured: not applied
    # Signed, but not of a shape we can apply (recorded by ``webhooks.reject_event``).
    REJECTED = "rejected"
    # An event applied before, delivered again: acknowledged, changes nothing.
    DUPLICATE = "duplicate"

    @classmethod
    def already(cls, status: str) -> "EventOutcome":
        """A success event for a payment that has moved past success."""
        return cls(f"already_{status.lower()}")


# What the metric calls each outcome that is not "applied".
METRIC_LABELS = {
    EventOutcome.PENDING: "ignored",
    EventOutcome.IGNORED: "ignored",
    EventOutcome.REJECTED: "rejected",
    EventOutcome.DUPLICATE: "duplicate",
}


@dataclass(frozen=True)
class EventResult:
    outcome: EventOutcome
    # What else happened to some of a refund event's refunds (REFUND_CURRENCY_MISMATCH,
    # REFUND_REJECTED), after the outcome of the others.
    notes: tuple[EventOutcome, ...] = ()
    # Why part of the event was not applied, for the person who looks at it.
    reason: str = ""
    # For a DUPLICATE: what the event's first delivery recorded.
    recorded: str = ""

    def __str__(self) -> str:
        if self.outcome == EventOutcome.DUPLICATE:
            return f"{self.outcome}:{self.recorded}"
        return ":".join([self.outcome, *self.notes])

    @property
    def metric_label(self) -> str:
        return METRIC_LABELS.get(self.outcome, "applied")
