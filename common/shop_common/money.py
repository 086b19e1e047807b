"""Money: Decimal amounts in cents, never floats (docs/orders.md, docs/cart.md)."""

from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")


def to_cents(value: Decimal) -> Decimal:
    """``value`` rounded half up to the cent: how the shop rounds a line total or a tax."""
    return value.quantize(CENT, rounding=ROUND_HALF_UP)
