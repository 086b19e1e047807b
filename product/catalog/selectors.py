"""Reads of the catalog: filtered product lists, lookups, and the batch lookup other services
price with."""

from datetime import timedelta

import django_filters
from django.db.models import F, Q, QuerySet
from django.http import QueryDict
from django.utils import timezone

from catalog.exceptions import CategoryNotFound, ProductNotPresentException
from catalog.models import Category, Product, Reservation
from shop_common.filters import apply_filters

ORDERINGS = {
    "price": ("price", "id"),
    "-price": ("-price", "-id"),
    "title": ("title", "id"),
    "-title": ("-title", "-id"),
    "newest": ("-created_at", "-id"),
    "oldest": ("created_at", "id"),
}


# "true"/"false" and nothing else: an unreadable value is a 400, not silently no filter.
BOOLEAN_CHOICES = [("true", "true"), ("false", "false")]


class ProductFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(
        method="search", help_text="words in the title or description, or the SKU"
    )
    category = django_filters.ModelChoiceFilter(queryset=Category.objects.all())
    min_price = django_filters.NumberFilter(field_name="price", lookup_expr="gte")
    max_price = django_filters.NumberFilter(field_name="price", lookup_expr="lte")
    in_stock = django_filters.ChoiceFilter(choices=BOOLEAN_CHOICES, method="filter_in_stock")
    is_active = django_filters.ChoiceFilter(choices=BOOLEAN_CHOICES, method="filter_active")
    ordering = django_filters.ChoiceFilter(
        choices=[(name, name) for name in ORDERINGS], method="order", empty_label=None
    )

    class Meta:
        model = Product
        fields = ["q", "category", "min_price", "max_price", "in_stock", "is_active"]

    def search(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(
            Q(title__icontains=value) | Q(description__icontains=value) | Q(sku__iexact=value)
        )

    def order(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset.order_by(*ORDERINGS[value])

    def filter_in_stock(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        in_stock = Q(stock_on_hand__gt=F("stock_reserved"))
        return queryset.filter(in_stock if value == "true" else ~in_stock)

    def filter_active(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset.filter(is_active=value == "true")


def products_for(*, staff: bool) -> QuerySet[Product]:
    """What a caller may see: staff see every product, everyone else only active ones."""
    products = Product.objects.all()
    return products if staff else products.filter(is_active=True)


# The columns ``product_answers`` reads: what apis.ProductOutput answers.
PRODUCT_COLUMNS = (
    "id",
    "title",
    "slug",
    "description",
    "sku",
    "price",
    "currency",
    "stock_on_hand",
    "stock_reserved",
    "category_id",
    "image_url",
    "is_active",
    "created_at",
    "updated_at",
)


# What staff (True) and everyone else see, as rows: composed once, since naming the columns
# (``values``) was most of building the list's query; each request narrows a copy (``all()``).
_LIST_ROWS = {staff: products_for(staff=staff).values(*PRODUCT_COLUMNS) for staff in (True, False)}


def product_list(*, filters: QueryDict | dict, staff: bool) -> QuerySet:
    """The products the caller may see, narrowed by ``filters``, as rows for ``product_answers``."""
    return apply_filters(ProductFilter, filters, _LIST_ROWS[staff].all())


def product_answers(rows: list[dict]) -> list[dict]:
    """Products from rows (a page of ``GET /products/``), equal to
    ``apis.ProductOutput(products, many=True).data`` once rendered and an order of magnitude
    cheaper: every list the cache misses is built here. catalog/tests/test_catalog_api.py keeps
    the two equal. Times stay ``datetime``: the shop's JSON renderer writes them as ProductOutput
    does."""
    return [
        {
            "id": row["id"],
            "title": row["title"],
            "slug": row["slug"],
            "description": row["description"],
            "sku": row["sku"],
            "price": f"{row['price']:.2f}",
            "currency": row["currency"],
            "quantity": row["stock_on_hand"],
            "available": row["stock_on_hand"] - row["stock_reserved"],
            "category": row["category_id"],
            "image_url": row["image_url"],
            "is_active": row["is_active"],
            "created_at": row["created_at"],
            "updated_at": row["updated_at"],
        }
        for row in rows
    ]


def visible_product(*, product_id: int, staff: bool) -> Product:
    """The product, if the caller may see it; an inactive one is a 404 to all but staff."""
    product = products_for(staff=staff).filter(pk=product_id).first()
    if product is None:
        raise ProductNotPresentException(product_id)
    return product


def category_list() -> QuerySet[Category]:
    return Category.objects.order_by("name")


def category_or_404(*, category_id: int) -> Category:
    category = Category.objects.filter(pk=category_id).first()
    if category is None:
        raise CategoryNotFound(category_id)
    return category


def product_facts(ids: list[int]) -> list[dict]:
    """What the cart and order services price lines with, as plain rows: this lookup runs for
    every cart whose facts the cart service has not kept, and skipping model instances and a
    serializer halves its cost."""
    rows = (
        Product.objects.filter(pk__in=ids)
        .order_by("pk")
        .values(
            "id",
            "title",
            "sku",
            "price",
            "currency",
            "is_active",
            "stock_on_hand",
            "stock_reserved",
            "image_url",
        )
    )
    return [
        {
            "id": row["id"],
            "title": row["title"],
            "sku": row["sku"],
            "price": f"{row['price']:.2f}",
            "currency": row["currency"],
            "is_active": row["is_active"],
            "available": row["stock_on_hand"] - row["stock_reserved"],
            "image_url": row["image_url"],
        }
        for row in rows
    ]


def reservation_counts() -> dict[str, int]:
    """Reservations holding stock (``current``; ``overdue``: past their expiry, waiting for
    release_expired_reservations) and those the job released as ``expired_last_hour`` (by expiry
    time). Three counts over the (status, expires_at) index, whatever the table's size."""
    now = timezone.now()
    held = Reservation.objects.filter(status=Reservation.Status.RESERVED)
    overdue = held.filter(expires_at__lte=now).count()
    expired = Reservation.objects.filter(
        status=Reservation.Status.RELEASED,
        expires_at__gt=now - timedelta(hours=1),
        expires_at__lte=now,
        release_reason="expired",
    ).count()
    return {"current": held.count() - overdue, "overdue": overdue, "expired_last_hour": expired}
