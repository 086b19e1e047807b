"""The priced cart: stored lines plus the product service's facts, kept from a recent answer or
asked in one batch call."""

import functools
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.db import connection

from carts.clients import recent_products
from carts.models import Cart, CartItem
from shop_common.money import CENT
from shop_common.product_catalog import CatalogProduct
from shop_common.related import known_related

# Why a line cannot be bought as it is (None: it can).
NOT_FOUND = "product_not_found"
INACTIVE = "product_inactive"
INSUFFICIENT = "insufficient_stock"


@dataclass(frozen=True)
class PricedLine:
    item: CartItem
    product: CatalogProduct | None

    @property
    def problem(self) -> str | None:
        if self.product is None:
            return NOT_FOUND
        if not self.product.is_active:
            return INACTIVE
        if self.product.available < self.item.quantity:
            return INSUFFICIENT
        return None

    @property
    def subtotal(self) -> Decimal | None:
        if self.product is None:
            return None
        return (self.product.price * self.item.quantity).quantize(CENT)

    @property
    def unit_price(self) -> Decimal | None:
        return self.product.price.quantize(CENT) if self.product else None

    @property
    def available(self) -> bool:
        """Can be bought in this quantity now."""
        return self.problem is None

    @property
    def stock_available(self) -> int:
        product = self.product
        return product.available if product and product.is_active else 0

    def as_answer(self) -> dict:
        product = self.product
        return {
            "id": self.item.id,
            "product_id": self.item.product_id,
            "title": product.title if product else None,
            "sku": product.sku if product else None,
            "image_url": product.image_url if product else None,
            "quantity": self.item.quantity,
            "unit_price": self.unit_price,
            "subtotal": self.subtotal,
            "available": self.available,
            "stock_available": self.stock_available,
            "problem": self.problem,
        }


def price_lines(items: list[CartItem], products: dict[int, CatalogProduct]) -> list[PricedLine]:
    return [PricedLine(item=item, product=products.get(item.product_id)) for item in items]


@dataclass(frozen=True)
class PricedCart:
    """The whole cart as clients see it: lines that cannot be bought stay listed, with their
    ``problem``, and count in no total."""

    id: int
    lines: list[PricedLine]
    currency: str

    @property
    def buyable(self) -> list[PricedLine]:
        return [line for line in self.lines if line.available]

    @property
    def item_count(self) -> int:
        return sum(line.item.quantity for line in self.buyable)

    @property
    def subtotal(self) -> Decimal:
        return sum((line.subtotal for line in self.buyable), Decimal("0.00")).quantize(CENT)

    @property
    def has_unavailable_items(self) -> bool:
        return len(self.buyable) != len(self.lines)

    def as_answer(self) -> dict:
        """The answer of every cart endpoint, in the shape of ``apis.CartOutput``, built by hand:
        the serializer costs many times this on the service's most frequent request
        (docs/development.md, "Figures behind design choices").
        ``tests/test_cart_api.py::test_the_hand_built_answer_is_what_cart_output_gives`` keeps the
        two the same."""
        buyable = self.buyable
        subtotal = sum((line.subtotal for line in buyable), Decimal("0.00")).quantize(CENT)
        return {
            "id": self.id,
            "items": [line.as_answer() for line in self.lines],
            "item_count": sum(line.item.quantity for line in buyable),
            "subtotal": subtotal,
            "total": subtotal,
            "currency": self.currency,
            "has_unavailable_items": len(buyable) != len(self.lines),
        }


def stored_cart(*, user_id: int) -> Cart | None:
    """The user's cart with its lines, in one query (the lines joined to their cart), when it has
    any lines; None otherwise (no cart, or an empty one): docs/development.md, "Counting SQL
    statements"."""
    items = list(CartItem.objects.filter(cart__user_id=user_id).select_related("cart"))
    if not items:
        return None
    cart = items[0].cart
    known_related(cart, "items", items)
    return cart


@functools.cache
def _lines_sql() -> str:
    # Written once: built through the ORM on every cart page, this query cost more to compose
    # than to run. The lines in their Meta.ordering.
    return (
        f"SELECT i.cart_id, i.id, i.product_id, i.quantity FROM {CartItem._meta.db_table} i "  # noqa: S608 (no input)
        f"INNER JOIN {Cart._meta.db_table} c ON c.id = i.cart_id "
        "WHERE c.user_id = %s ORDER BY i.added_at, i.id"
    )


def cart_lines(*, user_id: int) -> Cart | None:
    """:func:`stored_cart` for the cart page, which reads only the cart's id and its lines' ids,
    products and quantities: those, from rows. The cart carries nothing else (not its checkout),
    so it is for answering, never for a write."""
    with connection.cursor() as cursor:
        cursor.execute(_lines_sql(), [user_id])
        rows = cursor.fetchall()
    if not rows:
        return None
    cart = Cart(id=rows[0][0], user_id=user_id)
    items = [
        CartItem(id=item_id, cart_id=cart_id, product_id=product_id, quantity=quantity)
        for cart_id, item_id, product_id, quantity in rows
    ]
    known_related(cart, "items", items)
    return cart


def priced_cart(cart: Cart, products: dict[int, CatalogProduct] | None = None) -> PricedCart:
    """The cart priced at the catalog's facts. ``products`` may come from the caller's own batch
    call; otherwise facts at most ``CART_CATALOG_CACHE_SECONDS`` old, the rest asked now: the
    order prices and reserves at the catalog itself, so an answer this old decides nothing."""
    items = list(cart.items.all())
    if products is None:
        products = recent_products(item.product_id for item in items)
    lines = price_lines(items, products)
    currencies = {line.product.currency for line in lines if line.product}
    return PricedCart(
        id=cart.id,
        lines=lines,
        currency=currencies.pop() if len(currencies) == 1 else settings.DEFAULT_CURRENCY,
    )
