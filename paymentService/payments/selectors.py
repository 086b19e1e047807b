"""Reads of the payment service: the payments a caller may see."""

from django.db.models import QuerySet

from payments.exceptions import PaymentNotFound
from payments.models import Payment


def visible_payments(
    *, user_id: int, staff: bool, order_id: int | None = None
) -> QuerySet[Payment]:
    """Staff see every payment, a customer their own; ``order_id`` narrows to one order's."""
    payments = Payment.objects.prefetch_related("refunds")
    if not staff:
        payments = payments.filter(user_id=user_id)
    if order_id is not None:
        payments = payments.filter(order_id=order_id)
    return payments


def visible_payment(*, payment_id: int, user_id: int, staff: bool) -> Payment:
    """:raises PaymentNotFound: no such payment, or not one the caller may see (404, never 403)."""
    payment = visible_payments(user_id=user_id, staff=staff).filter(pk=payment_id).first()
    if payment is None:
        raise PaymentNotFound(payment_id)
    return payment
