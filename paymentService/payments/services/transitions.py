"""The one way a payment or a refund changes status, along its table in ``payments.models``."""

from django.db import transaction

from payments.exceptions import IllegalPaymentTransition
from payments.models import (
    OPEN_STATUSES,
    REFUND_TRANSITIONS,
    TRANSITIONS,
    Payment,
    PaymentStatusChange,
    Refund,
    RefundStatus,
)
from shop_common import metrics


def move_payment(payment: Payment, to: str, *, reason: str = "", **fields: object) -> Payment:
    """The one way a payment changes status: along ``TRANSITIONS``, with a history row, in the
    caller's transaction (which holds the row's lock). A payment that leaves the open states frees
    its order for another payment.

    :raises IllegalPaymentTransition: a move the table does not allow."""
    if to not in TRANSITIONS[payment.status]:
        raise IllegalPaymentTransition(payment.status, to)
    PaymentStatusChange.objects.create(
        payment=payment, from_status=payment.status, to_status=to, reason=reason[:255]
    )
    payment.status = to
    for name, value in fields.items():
        setattr(payment, name, value)
    changed = ["status", "updated_at", *fields]
    if to not in OPEN_STATUSES and payment.open_for_order is not None:
        payment.open_for_order = None
        changed.append("open_for_order")
    payment.save(update_fields=changed)
    transaction.on_commit(metrics.PAYMENTS.labels(payment.gateway, to).inc)
    return payment


def move_refund(refund: Refund, to: str, **fields: object) -> Refund:
    """The one way a refund changes status, along ``REFUND_TRANSITIONS`` (the caller holds the lock).

    :raises IllegalPaymentTransition: a move the table does not allow."""
    if to not in REFUND_TRANSITIONS[refund.status]:
        raise IllegalPaymentTransition(refund.status, to)
    refund.status = to
    for name, value in fields.items():
        setattr(refund, name, value)
    refund.save(update_fields=["status", "updated_at", *fields])
    if to in (RefundStatus.SUCCEEDED, RefundStatus.FAILED):
        counted = metrics.REFUNDS.labels(refund.payment.gateway, to.lower())
        transaction.on_commit(counted.inc)
    return refund
