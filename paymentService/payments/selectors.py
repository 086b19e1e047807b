"""Reads of the payment service: the payments a caller may see."""

import django_filters
from django import forms
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import QueryDict

from payments.exceptions import PaymentNotFound
from payments.models import Payment
from shop_common.fields import MAX_ID
from shop_common.filters import apply_filters


class IdFormField(forms.IntegerField):
    """A database id in a query string: 1 to 2^63 - 1; present but empty is an error, not "no
    filter"."""

    def __init__(self, **kwargs: object) -> None:
        super().__init__(min_value=1, max_value=MAX_ID, **kwargs)

    def clean(self, value: object) -> int | None:
        if value == "":
            raise ValidationError("A whole number is required.", code="invalid")
        return super().clean(value)


class IdFilter(django_filters.NumberFilter):
    field_class = IdFormField


class PaymentFilter(django_filters.FilterSet):
    order_id = IdFilter()

    class Meta:
        model = Payment
        fields = ["order_id"]


def visible_payments(*, user_id: int, staff: bool) -> QuerySet[Payment]:
    """Staff see every payment, a customer their own."""
    payments = Payment.objects.prefetch_related("refunds")
    return payments if staff else payments.filter(user_id=user_id)


def payment_list(*, user_id: int, staff: bool, filters: QueryDict | dict) -> QuerySet[Payment]:
    """The payments the caller may see, narrowed by ``filters`` (``order_id``)."""
    return apply_filters(PaymentFilter, filters, visible_payments(user_id=user_id, staff=staff))


def visible_payment(*, payment_id: int, user_id: int, staff: bool) -> Payment:
    """:raises PaymentNotFound: no such payment, or not one the caller may see (404, never 403)."""
    payment = visible_payments(user_id=user_id, staff=staff).filter(pk=payment_id).first()
    if payment is None:
        raise PaymentNotFound(payment_id)
    return payment


def payment_with_refunds(*, payment_id: int) -> Payment:
    """The payment as it is now, with its refunds (after a change)."""
    return Payment.objects.prefetch_related("refunds").get(pk=payment_id)


def landing_payment(*, reference: str) -> Payment | None:
    """The payment a hosted checkout sends the person back from (its provider reference)."""
    if not reference:
        return None
    return Payment.objects.filter(provider_reference=reference[:255]).first()
