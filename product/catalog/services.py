"""Every write of the catalog: categories, products, and the stock reservations of orders."""

import logging
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, OperationalError, connection, transaction
from django.db.models import F, Prefetch
from django.utils import timezone
from django.utils.text import slugify

from catalog import cache
from catalog.exceptions import (
    CategoryInUse,
    CategoryNameTaken,
    ProductsNotForSale,
    ReservationClosed,
    ReservationMismatch,
    ReservationNotFound,
    SkuTaken,
    StockBelowReserved,
)
from catalog.models import Category, Product, Reservation, ReservationLine
from shop_common import deadlines, metrics
from shop_common.errors import OutOfStock
from shop_common.lines import merged_quantities
from shop_common.related import known_related

logger = logging.getLogger("shop.catalog")

# MySQL/MariaDB: deadlock found, lock wait timeout. Retried a few times, never shown to a client.
_RETRYABLE_MYSQL_ERRORS = {1213, 1205}
_RESERVE_ATTEMPTS = 4

PRODUCT_FIELDS = (
    "title",
    "slug",
    "sku",
    "description",
    "category",
    "price",
    "currency",
    "image_url",
    "is_active",
    "stock_on_hand",
)


# --- categories ------------------------------------------------------------------------------


def slug_for(*texts: str, prefix: str, length: int) -> str:
    """The first text that makes a slug (ASCII letters, digits, hyphens), or ``prefix`` and a
    random suffix when none does: a name like "Þ" slugifies to nothing, and a slug is never empty."""
    for text in texts:
        slug = slugify(text)[:length].strip("-")
        if slug:
            return slug
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def _check_parent(category: Category | None, parent: Category | None) -> None:
    ancestor = parent
    while ancestor is not None:
        if category is not None and ancestor.pk == category.pk:
            raise ValidationError({"parent": ["A category cannot be its own ancestor."]})
        ancestor = ancestor.parent


@transaction.atomic
def save_category(*, category: Category | None = None, **fields: Any) -> Category:
    category = category or Category()
    if "parent" in fields:
        _check_parent(category if category.pk else None, fields["parent"])
    for name, value in fields.items():
        setattr(category, name, value)
    if not category.slug:
        category.slug = slug_for(category.name, prefix="category", length=140)
    try:
        with transaction.atomic():
            category.save()
    except IntegrityError:
        raise CategoryNameTaken(details={"name": category.name, "slug": category.slug}) from None
    cache.invalidate()
    return category


@transaction.atomic
def delete_category(*, category: Category) -> None:
    if category.products.exists() or category.children.exists():
        raise CategoryInUse(details={"category_id": category.pk})
    category.delete()
    cache.invalidate()


# --- products --------------------------------------------------------------------------------


@transaction.atomic
def save_product(*, product: Product | None = None, **fields: Any) -> Product:
    """Creates or changes a product. Stock on hand may not drop below what is reserved."""
    if product is not None:
        # Lock the row: a reservation running now must not slip between the check and the save.
        product = Product.objects.select_for_update().get(pk=product.pk)
    product = product or Product()
    unknown = set(fields) - set(PRODUCT_FIELDS)
    if unknown:
        raise ValueError(f"not product fields: {sorted(unknown)}")
    for name, value in fields.items():
        setattr(product, name, value)
    if product.stock_on_hand < product.stock_reserved:
        raise StockBelowReserved(
            details={"reserved": product.stock_reserved, "requested_on_hand": product.stock_on_hand}
        )
    if not product.slug:
        product.slug = slug_for(product.title, product.sku, prefix="product", length=220)
    product.currency = product.currency.upper()
    try:
        with transaction.atomic():
            product.save()
    except IntegrityError:
        raise SkuTaken(details={"sku": product.sku}) from None
    cache.invalidate()
    return product


@transaction.atomic
def set_active(*, product_ids: list[int], active: bool) -> int:
    count = Product.objects.filter(pk__in=product_ids).update(
        is_active=active, updated_at=timezone.now()
    )
    cache.invalidate()
    return count


def deactivate_product(*, product: Product) -> None:
    """DELETE /products/{id}/: the product leaves the shop; orders and carts that name it keep
    working (they show it as unavailable), and staff can still see and restore it."""
    set_active(product_ids=[product.pk], active=False)


# --- stock reservations ----------------------------------------------------------------------


@dataclass(frozen=True)
class StockLine:
    product_id: int
    quantity: int


def _is_retryable(error: OperationalError) -> bool:
    return connection.vendor == "mysql" and error.args and error.args[0] in _RETRYABLE_MYSQL_ERRORS


def reserve_stock(*, order_ref: str, lines: list[StockLine]) -> tuple[Reservation, bool]:
    """Reserves every line or none; True when this call made the reservation. The same
    ``order_ref`` again returns the first reservation (and False). Each line holds its product
    (``line.product``: title, sku, price, currency), read under the reservation's row locks, so the
    caller prices its order at the prices the stock was reserved at.

    :raises ProductsNotForSale: a line's product is unknown or inactive (nothing is reserved).
    :raises OutOfStock: a line is short (nothing is reserved).
    """
    wanted = merged_quantities((line.product_id, line.quantity) for line in lines)
    for attempt in range(1, _RESERVE_ATTEMPTS + 1):
        try:
            reservation, created = _reserve_once(order_ref=order_ref, wanted=wanted)
        except (OutOfStock, ProductsNotForSale):
            metrics.STOCK_RESERVATIONS.labels("refused").inc()
            raise
        except IntegrityError:
            # Another request with the same order_ref committed first: answer with its reservation.
            return _same_reservation(order_ref=order_ref, wanted=wanted), False
        except OperationalError as error:
            if not _is_retryable(error) or attempt == _RESERVE_ATTEMPTS:
                raise
            logger.warning(
                "Reservation %s retried after %s (attempt %d)", order_ref, error.args[0], attempt
            )
        else:
            if created:
                metrics.STOCK_RESERVATIONS.labels("granted").inc()
            return reservation, created
    raise AssertionError("unreachable")  # pragma: no cover


# What a reservation's answer tells of each line's product: what the order's line keeps.
_PRICED = (
    "reservation_id",
    "product_id",
    "quantity",
    "product__title",
    "product__sku",
    "product__price",
    "product__currency",
)


def _same_reservation(*, order_ref: str, wanted: dict[int, int]) -> Reservation:
    """The first reservation of ``order_ref``, its lines priced as the catalog stands now (the
    caller lost the first answer and prices its order from this one)."""
    reservation = Reservation.objects.prefetch_related(
        Prefetch("lines", ReservationLine.objects.select_related("product").only(*_PRICED))
    ).get(order_ref=order_ref)
    if {line.product_id: line.quantity for line in reservation.lines.all()} != wanted:
        raise ReservationMismatch(details={"order_ref": order_ref})
    return reservation


def _short_lines(wanted: dict[int, int], *, taken: dict[int, int]) -> list[dict[str, int]]:
    """Every line that cannot be reserved, as the stock stood before this reservation (``taken``:
    what it already added to the products locked so far), read under the products' locks (taken
    in product-id order, after the ones already held).

    :raises ProductsNotForSale: some lines' products are unknown or inactive: those are named.
    """
    products = {
        product.pk: product
        for product in Product.objects.select_for_update().filter(pk__in=wanted).order_by("pk")
    }
    not_for_sale = sorted(
        pid for pid in wanted if pid not in products or not products[pid].is_active
    )
    if not_for_sale:
        raise ProductsNotForSale(not_for_sale)
    short = []
    for product_id, quantity in wanted.items():
        product = products.get(product_id)
        available = (
            product.available + taken.get(product_id, 0) if product and product.is_active else 0
        )
        if available < quantity:
            short.append(
                {"product_id": product_id, "requested": quantity, "available": max(available, 0)}
            )
    return short


def _reserve_once(*, order_ref: str, wanted: dict[int, int]) -> tuple[Reservation, bool]:
    with transaction.atomic():
        # The reservation row first, and no look for it before: order_ref is unique, so a second
        # reservation of one reference fails here, before any stock is touched, and the
        # IntegrityError (the whole transaction rolled back) answers with the first one
        # (reserve_stock). A concurrent one waits on this row until this transaction ends.
        reservation = Reservation.objects.create(
            order_ref=order_ref,
            expires_at=timezone.now() + timedelta(seconds=settings.RESERVATION_TTL_SECONDS),
        )
        # Each line's conditional UPDATE checks the line and takes its product's row lock, in
        # product-id order: two orders over the same products queue, never deadlock, and no
        # SELECT ... FOR UPDATE is needed before (docs/development.md, "Counting SQL
        # statements"). The first short line stops it; the answer names every short line.
        taken: dict[int, int] = {}
        for product_id, quantity in sorted(wanted.items()):
            updated = Product.objects.filter(
                pk=product_id,
                is_active=True,
                stock_on_hand__gte=F("stock_reserved") + quantity,
            ).update(stock_reserved=F("stock_reserved") + quantity)
            if updated != 1:
                raise OutOfStock(details={"lines": _short_lines(wanted, taken=taken)})
            taken[product_id] = quantity
        # Read under the row locks the UPDATEs took: no price can change between this read and
        # the commit, so these are the prices the stock is reserved at.
        products = Product.objects.only("title", "sku", "price", "currency").in_bulk(wanted)
        lines = ReservationLine.objects.bulk_create(
            ReservationLine(
                reservation=reservation, product=products[product_id], quantity=quantity
            )
            for product_id, quantity in sorted(wanted.items())
        )
        # Last, before the commit: once the caller's deadline has passed it has given up (and may
        # already have asked for the release of this reference), so the stock must not stay held.
        deadlines.check()
        cache.invalidate()
    # The answer from the rows just written (in the lines' own product-id order), not read back.
    known_related(reservation, "lines", lines)
    return reservation, True


def _close(*, order_ref: str, to: str, reason: str = "") -> Reservation:
    with transaction.atomic():
        # The reservation and its lines in one locking read (the lines joined to it; both rows
        # locked): docs/development.md, "Counting SQL statements".
        lines = list(
            ReservationLine.objects.select_for_update()
            .select_related("reservation")
            .filter(reservation__order_ref=order_ref)
            .order_by("product_id")
        )
        if lines:
            reservation = lines[0].reservation
        else:  # none, or (never made by the API) one without lines
            reservation = (
                Reservation.objects.select_for_update().filter(order_ref=order_ref).first()
            )
        if reservation is None:
            raise ReservationNotFound(order_ref)
        known_related(reservation, "lines", lines)  # the answer's lines
        if reservation.status == to:
            return reservation
        if reservation.status != Reservation.Status.RESERVED:
            raise ReservationClosed(details={"order_ref": order_ref, "status": reservation.status})
        # Each UPDATE below locks its product row, in product-id order (the lines' order), the
        # order _reserve_once locks them in: no SELECT ... FOR UPDATE of them first.
        for line in lines:
            changes: dict[str, Any] = {"stock_reserved": F("stock_reserved") - line.quantity}
            if to == Reservation.Status.COMMITTED:
                changes["stock_on_hand"] = F("stock_on_hand") - line.quantity
            Product.objects.filter(pk=line.product_id).update(**changes)
        reservation.status = to
        reservation.closed_at = timezone.now()
        reservation.release_reason = reason
        reservation.save(update_fields=["status", "closed_at", "release_reason"])
        cache.invalidate()
        outcome = "committed" if to == Reservation.Status.COMMITTED else "released"
        transaction.on_commit(metrics.STOCK_RESERVATIONS.labels(outcome).inc)
    return reservation


def commit_stock(*, order_ref: str) -> Reservation:
    """Payment succeeded: the reserved units leave the shop. Idempotent."""
    return _close(order_ref=order_ref, to=Reservation.Status.COMMITTED)


def release_stock(*, order_ref: str, reason: str = "released") -> Reservation:
    """Cancelled, payment failed or expired: the units are for sale again. Idempotent."""
    return _close(order_ref=order_ref, to=Reservation.Status.RELEASED, reason=reason)


def release_expired_reservations(*, now: Any = None) -> list[str]:
    now = now or timezone.now()
    expired = list(
        Reservation.objects.filter(status=Reservation.Status.RESERVED, expires_at__lte=now)
        .order_by("expires_at")
        .values_list("order_ref", flat=True)
    )
    released = []
    for order_ref in expired:
        try:
            release_stock(order_ref=order_ref, reason="expired")
            released.append(order_ref)
        except ReservationClosed:
            continue  # committed or released meanwhile
    return released
