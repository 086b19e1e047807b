"""The priced cart: stored lines plus the product service's current facts, from one batch call."""

from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings

from carts.models import Cart, CartItem
from shop_common.product_catalog import CatalogProduct, fetch_products

CENT = Decimal("0.01")

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

    def as_dict(self) -> dict:
        product = self.product
        return {
            "id": self.item.id,
            "product_id": self.item.product_id,
            "title": product.title if product else None,
            "sku": product.sku if product else None,
            "image_url": product.image_url if product else None,
            "quantity": self.item.quantity,
            "unit_price": product.price.quantize(CENT) if product else None,
            "subtotal": self.subtotal,
            "available": self.problem is None,
            "stock_available": product.available if product and product.is_active else 0,
            "problem": self.problem,
        }


def price_lines(items: list[CartItem], products: dict[int, CatalogProduct]) -> list[PricedLine]:
    return [PricedLine(item=item, product=products.get(item.product_id)) for item in items]


def cart_answer(cart: Cart, products: dict[int, CatalogProduct] | None = None) -> dict:
    """The whole cart as clients see it. ``products`` may come from the caller's own batch call;
    otherwise one batch call is made here."""
    items = list(cart.items.all())
    if products is None:
        products = fetch_products({item.product_id for item in items})
    lines = price_lines(items, products)
    buyable = [line for line in lines if line.problem is None]
    subtotal = sum((line.subtotal for line in buyable), Decimal("0.00")).quantize(CENT)
    currencies = {line.product.currency for line in lines if line.product}
    return {
        "id": cart.id,
        "items": [line.as_dict() for line in lines],
        "item_count": sum(line.item.quantity for line in buyable),
        "subtotal": subtotal,
        "total": subtotal,
        "currency": currencies.pop() if len(currencies) == 1 else settings.DEFAULT_CURRENCY,
        "has_unavailable_items": len(buyable) != len(lines),
    }
