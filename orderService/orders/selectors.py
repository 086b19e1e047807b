"""Reads of the order service: a customer's history, and the lookups its APIs answer from."""

import functools

import django_filters
from django.db import connection
from django.db.models import QuerySet
from django.http import QueryDict

from orders.exceptions import OrderNotFound
from orders.models import Order, OrderEvent, OrderLine, OrderStatus
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


def order_history(*, user_id: int, filters: QueryDict | dict) -> QuerySet:
    """The customer's orders, newest first, as rows of ``HISTORY_FIELDS`` (no model instances:
    the history page reads 20 orders and builds its answer from the rows, see
    :func:`order_answers`); their lines and events come from :func:`lines_and_events`."""
    orders = Order.objects.filter(user_id=user_id).order_by("-created_at", "-id")
    return apply_filters(OrderHistoryFilter, filters, orders).values(*HISTORY_FIELDS)


@functools.cache
def _history_version_sql() -> str:
    # Written once: on a cached history page this is the only query, and building it through the
    # ORM would cost more than running it.
    return (
        f"SELECT COUNT(*) FROM {OrderEvent._meta.db_table} e "  # noqa: S608 (no input)
        f"INNER JOIN {Order._meta.db_table} o ON o.id = e.order_id WHERE o.user_id = %s"
    )


def history_version(*, user_id: int) -> int:
    """How far the customer's orders have come: the number of their events. Placing an order and
    every move of the state machine add one, in the same transaction as the change, and none is
    ever deleted, so each committed change a customer can see gives a new number."""
    with connection.cursor() as cursor:
        cursor.execute(_history_version_sql(), [user_id])
        return cursor.fetchone()[0]


HISTORY_FIELDS = (
    "id",
    "order_number",
    "user_id",
    "status",
    "currency",
    "subtotal",
    "tax_amount",
    "shipping_amount",
    "total_amount",
    "shipping_address",
    "billing_address",
    "payment_method",
    "tracking_number",
    "carrier",
    "created_at",
    "updated_at",
)


def lines_and_events(
    order_ids: list[int],
) -> tuple[dict[int, list[dict]], dict[int, list[dict]]]:
    """The lines and the events of these orders as rows, by order id, each in its model's order
    (two queries, as ``prefetch_related("lines", "events")`` would run)."""
    lines: dict[int, list[dict]] = {order_id: [] for order_id in order_ids}
    events: dict[int, list[dict]] = {order_id: [] for order_id in order_ids}
    for line in (
        OrderLine.objects.filter(order_id__in=order_ids)
        .order_by("id")
        .values("order_id", "product_id", "title", "sku", "unit_price", "quantity", "line_total")
    ):
        lines[line["order_id"]].append(line)
    for event in (
        OrderEvent.objects.filter(order_id__in=order_ids)
        .order_by("at", "id")
        .values("order_id", "to_status", "from_status", "at", "by", "notes")
    ):
        events[event["order_id"]].append(event)
    return lines, events


def order_answers(orders: list[dict]) -> list[dict]:
    """Orders from rows (a page of the history, or the one order of ``GET /orders/{id}/``), equal
    to ``apis.OrderOutput(orders, many=True).data`` and several times cheaper (the order page is
    what customers poll while a payment goes through); orders/tests/test_orders.py keeps the two
    equal. Amounts and times stay ``Decimal`` and ``datetime``: the shop's JSON renderer writes
    them as OrderOutput does."""
    lines, events = lines_and_events([order["id"] for order in orders])
    return [
        {
            "id": order["id"],
            "order_number": order["order_number"],
            "user_id": order["user_id"],
            "status": order["status"],
            "currency": order["currency"],
            "subtotal": order["subtotal"],
            "tax_amount": order["tax_amount"],
            "shipping_amount": order["shipping_amount"],
            "total_amount": order["total_amount"],
            "shipping_address": order["shipping_address"],
            "billing_address": order["billing_address"],
            "payment_method": order["payment_method"],
            "tracking_number": order["tracking_number"],
            "carrier": order["carrier"],
            "items": [
                {
                    "product_id": line["product_id"],
                    "title": line["title"],
                    "sku": line["sku"],
                    "price": line["unit_price"],
                    "quantity": line["quantity"],
                    "subtotal": line["line_total"],
                }
                for line in lines[order["id"]]
            ],
            "status_history": [
                {
                    "status": event["to_status"],
                    "from_status": event["from_status"],
                    "at": event["at"],
                    "by": event["by"],
                    "notes": event["notes"],
                }
                for event in events[order["id"]]
            ],
            "created_at": order["created_at"],
            "updated_at": order["updated_at"],
        }
        for order in orders
    ]


def order_with_details(*, order_id: int) -> Order | None:
    return Order.objects.prefetch_related("lines", "events").filter(pk=order_id).first()


def visible_order(*, order_id: int, user_id: int, staff: bool) -> Order:
    """The caller's own order, or any order for staff; anything else is a 404 as if absent."""
    order = order_with_details(order_id=order_id)
    _must_see(order_id, owner=order.user_id if order else None, user_id=user_id, staff=staff)
    return order


def visible_order_row(*, order_id: int, user_id: int, staff: bool) -> dict:
    """:func:`visible_order`'s rule, the order as a row of ``HISTORY_FIELDS``: the order page is
    built from rows as the history is (:func:`order_answers`)."""
    row = Order.objects.filter(pk=order_id).values(*HISTORY_FIELDS).first()
    _must_see(order_id, owner=row["user_id"] if row else None, user_id=user_id, staff=staff)
    return row


def _must_see(order_id: int, *, owner: int | None, user_id: int, staff: bool) -> None:
    """The one visibility rule: the owner or staff; anyone else (or no order) gets the 404 of an
    order that does not exist."""
    if owner is None or not (owner == user_id or staff):
        raise OrderNotFound(order_id)


def internal_order(*, order_id: int) -> Order:
    """Any order, for another shop service."""
    order = Order.objects.filter(pk=order_id).first()
    if order is None:
        raise OrderNotFound(order_id)
    return order
