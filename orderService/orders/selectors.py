import django_filters
from django.db.models import QuerySet

from orders.models import Order, OrderStatus


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


def order_with_details(*, order_id: int) -> Order | None:
    return Order.objects.prefetch_related("lines", "events").filter(pk=order_id).first()
