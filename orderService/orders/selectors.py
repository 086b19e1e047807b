"""Reads of the order service: a customer's history, and the lookups its APIs answer from."""

import django_filters
from django.db.models import QuerySet
from django.http import QueryDict

from orders.exceptions import OrderNotFound
from orders.models import Order, OrderStatus
from shop_common.filters import apply_filters


class OrderHistoryFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=OrderStatus.choices)
    date_from = django_filters.DateFilter(field_name="created_at", lookup_expr="date__gte")
    date_to = django_filters.DateFilter(field_name="created_at", lookup_expr="date__lte")

    class Meta:
        model = Order
        fields = ["status", "date_from", "date_to"]


def orders_of(*, user_id: int) -> QuerySet[Order]:
    return (
        Order.objects.filter(user_id=user_id)
        .prefetch_related("lines", "events")
        .order_by("-created_at", "-id")
    )


def order_history(*, user_id: int, filters: QueryDict | dict) -> QuerySet[Order]:
    return apply_filters(OrderHistoryFilter, filters, orders_of(user_id=user_id))


def order_with_details(*, order_id: int) -> Order | None:
    return Order.objects.prefetch_related("lines", "events").filter(pk=order_id).first()


def visible_order(*, order_id: int, user_id: int, staff: bool) -> Order:
    """The caller's own order, or any order for staff; anything else is a 404 as if absent."""
    order = order_with_details(order_id=order_id)
    if order is None or not (order.user_id == user_id or staff):
        raise OrderNotFound(order_id)
    return order


def internal_order(*, order_id: int) -> Order:
    """Any order, for another shop service."""
    order = Order.objects.filter(pk=order_id).first()
    if order is None:
        raise OrderNotFound(order_id)
    return order
