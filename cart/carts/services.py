"""Every write of the cart service. Lines are checked against one batch answer of the product
service before anything is written, so a failed call never changes a cart; adding takes facts
kept from a recent answer (carts.clients.recent_products)."""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, Q, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from carts.clients import current_products, recent_products
from carts.exceptions import CartItemNotFound, InsufficientStock, ProductNotFound
from carts.models import Cart, CartItem
from carts.selectors import stored_cart
from shop_common.errors import CurrencyMismatch
from shop_common.product_catalog import CatalogProduct
from shop_common.related import known_related


@dataclass(frozen=True)
class Addition:
    product_id: int
    quantity: int


def cart_for(*, user_id: int) -> Cart:
    return _cart_of(user_id)[0]


def _cart_of(user_id: int) -> tuple[Cart, bool]:
    """The user's cart, and whether this call made it (then it has no lines).

    Looked for once, then inserted: not get_or_create, whose second look only repeats what was
    just asked. The insert has an atomic block of its own, so that an IntegrityError (two first
    requests of one user at once) cannot break a caller's transaction (a savepoint there; on its
    own, a BEGIN on SQLite and nothing on MariaDB)."""
    existing = Cart.objects.filter(user_id=user_id).first()
    if existing is not None:
        return existing, False
    try:
        with transaction.atomic():
            cart = Cart.objects.create(user_id=user_id)
    except IntegrityError:
        return Cart.objects.get(user_id=user_id), False
    known_related(cart, "items", [])
    return cart, True


def _check_line(*, product: CatalogProduct | None, product_id: int, quantity: int) -> None:
    if product is None or not product.is_active:
        raise ProductNotFound(product_id)
    maximum = settings.CART_MAX_LINE_QUANTITY
    if quantity > maximum:
        raise ValidationError({"quantity": [f"At most {maximum} of one product per cart."]})
    if quantity > product.available:
        raise InsufficientStock(
            details={
                "product_id": product_id,
                "requested": quantity,
                "available": product.available,
            }
        )


def _check_currency(products: Iterable[CatalogProduct]) -> None:
    currencies = {product.currency for product in products}
    if len(currencies) > 1:
        raise CurrencyMismatch(details={"currencies": sorted(currencies)})


def add_items(*, user_id: int, additions: list[Addition]) -> tuple[Cart, dict[int, CatalogProduct]]:
    """Adds every line or none; adding a product already in the cart adds to its quantity. Checked
    against catalog facts at most ``CART_CATALOG_CACHE_SECONDS`` old."""
    cart, created = _cart_of(user_id)
    # Asked before the transaction: no lock is held while another service answers.
    known_ids = set() if created else set(cart.items.values_list("product_id", flat=True))
    products = recent_products(known_ids | {addition.product_id for addition in additions})
    with transaction.atomic():
        # One change to a cart at a time: the UPDATE that stamps the cart takes its row lock
        # before the lines are read (a SELECT ... FOR UPDATE first would only add a statement).
        stamped = timezone.now()
        if not Cart.objects.filter(pk=cart.pk).update(updated_at=stamped):
            raise Cart.DoesNotExist(cart.pk)
        cart.updated_at = stamped
        items = list(CartItem.objects.filter(cart=cart))
        current = {item.product_id: item for item in items}
        products |= recent_products(set(current) - set(products) - known_ids)  # added meanwhile
        wanted: dict[int, int] = {}
        for addition in additions:
            wanted[addition.product_id] = wanted.get(addition.product_id, 0) + addition.quantity
        for product_id, quantity in wanted.items():
            existing = current[product_id].quantity if product_id in current else 0
            _check_line(
                product=products.get(product_id),
                product_id=product_id,
                quantity=existing + quantity,
            )
        _check_currency(
            products[product_id]
            for product_id in set(current) | set(wanted)
            if product_id in products
        )
        for product_id, quantity in wanted.items():
            if product_id in current:
                current[product_id].quantity += quantity
                current[product_id].save(update_fields=["quantity", "updated_at"])
            else:
                items.append(
                    CartItem.objects.create(cart=cart, product_id=product_id, quantity=quantity)
                )
    # The answer's lines are these (new ones last, as added_at orders them): not read again.
    known_related(cart, "items", items)
    return cart, products


def _own_item(cart: Cart, item_id: int) -> CartItem:
    item = cart.items.filter(pk=item_id).first()
    if item is None:
        raise CartItemNotFound(item_id)
    return item


def update_item(
    *, user_id: int, item_id: int, quantity: int
) -> tuple[Cart, dict[int, CatalogProduct] | None]:
    """Sets a line's quantity; 0 removes it. Another user's line is a 404."""
    cart = cart_for(user_id=user_id)
    if quantity == 0:
        return remove_item(user_id=user_id, item_id=item_id), None
    _own_item(cart, item_id)  # a foreign or unknown line is a 404 before anything is asked
    products = current_products(cart.items.values_list("product_id", flat=True))
    with transaction.atomic():
        cart = Cart.objects.select_for_update().get(pk=cart.pk)
        item = _own_item(cart, item_id)
        _check_line(
            product=products.get(item.product_id), product_id=item.product_id, quantity=quantity
        )
        item.quantity = quantity
        item.save(update_fields=["quantity", "updated_at"])
    return cart, products


def remove_item(*, user_id: int, item_id: int) -> Cart:
    cart = cart_for(user_id=user_id)
    with transaction.atomic():
        _own_item(cart, item_id).delete()
    return cart


def clear_cart(*, user_id: int) -> Cart:
    cart = cart_for(user_id=user_id)
    CartItem.objects.filter(cart=cart).delete()
    known_related(cart, "items", [])  # the answer: no lines, without asking
    return cart


@dataclass(frozen=True)
class Checkout:
    """A cart's checkout: the key its order is placed under (None: no checkout), that order once
    placed, and the stored lines (none once they became the order)."""

    key: str | None
    order_id: int | None
    order_number: str
    # Its order may still be being placed: no order yet, and begun within one request's budget
    # (after it, the request that began it has placed its order or given up).
    under_way: bool
    lines: list[CartItem]


def _checkout_of(cart: Cart, lines: list[CartItem]) -> Checkout:
    now = timezone.now()
    started = cart.checkout_started_at
    held = timedelta(seconds=settings.CART_CHECKOUT_SECONDS)
    if not cart.checkout_key or started is None or started <= now - held:
        return Checkout(key=None, order_id=None, order_number="", under_way=False, lines=lines)
    budget = timedelta(seconds=settings.REQUEST_BUDGET_SECONDS)
    return Checkout(
        key=cart.checkout_key,
        order_id=cart.checkout_order_id,
        order_number=cart.checkout_order_number,
        under_way=cart.checkout_order_id is None and started > now - budget,
        lines=lines,
    )


def _stored(user_id: int) -> tuple[Cart, list[CartItem]]:
    cart = stored_cart(user_id=user_id) or cart_for(user_id=user_id)
    return cart, list(cart.items.all()) if cart.pk else []


def begin_checkout(*, user_id: int, key: str) -> Checkout:
    """The cart's checkout: the one under way (or just done) if there is one, whatever ``key`` is,
    else a new one under ``key``; an empty cart with none has key None. One conditional UPDATE
    decides (concurrent callers re-check its condition after the winner commits); no lock is held
    after it, and the order is placed by the caller afterwards."""
    now = timezone.now()
    held_since = now - timedelta(seconds=settings.CART_CHECKOUT_SECONDS)
    has_lines = Exists(CartItem.objects.filter(cart=OuterRef("pk")))
    # Lines beside a placed order were added after it: a new purchase, not a retry of that one.
    Cart.objects.filter(
        has_lines,
        Q(checkout_key="")
        | Q(checkout_started_at__lte=held_since)
        | Q(checkout_order_id__isnull=False),
        user_id=user_id,
    ).update(
        checkout_key=key,
        checkout_started_at=now,
        checkout_order_id=None,
        checkout_order_number="",
        updated_at=now,
    )
    return _checkout_of(*_stored(user_id))


def complete_checkout(*, user_id: int, key: str, order_id: int, order_number: str) -> Checkout:
    """The lines became the order ``order_id``: they go, and the cart remembers the order, so a
    checkout that comes after (a retry, a second click) is answered with it. Again: no change."""
    now = timezone.now()
    with transaction.atomic():
        # The cart's row first, as adding to it does: the two never wait on each other crosswise.
        Cart.objects.filter(user_id=user_id).update(
            checkout_key=key,
            checkout_order_id=order_id,
            checkout_order_number=order_number,
            checkout_started_at=Coalesce("checkout_started_at", Value(now)),
            updated_at=now,
        )
        CartItem.objects.filter(cart__user_id=user_id).delete()
    return Checkout(
        key=key, order_id=order_id, order_number=order_number, under_way=False, lines=[]
    )


def cancel_checkout(*, user_id: int, key: str) -> Checkout:
    """The order of checkout ``key`` was refused (out of stock...): the lines stay, and the next
    checkout is a new one. Another key's checkout, or one whose order was placed, stays."""
    Cart.objects.filter(user_id=user_id, checkout_key=key, checkout_order_id=None).update(
        checkout_key="", checkout_started_at=None
    )
    return _checkout_of(*_stored(user_id))
