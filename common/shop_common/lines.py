"""Lines of an order or a stock reservation: how many of which product."""

from collections.abc import Iterable


def merged_quantities(lines: Iterable[tuple[int, int]]) -> dict[int, int]:
    """``(product_id, quantity)`` pairs with the lines of one product added up, by product id:
    the form in which a reservation, an order and their request fingerprints see the lines."""
    wanted: dict[int, int] = {}
    for product_id, quantity in lines:
        wanted[product_id] = wanted.get(product_id, 0) + quantity
    return dict(sorted(wanted.items()))
