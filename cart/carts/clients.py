"""The cart's calls to the product service: its batch lookup, and a short-lived copy of the answers
that adding to a cart checks against (docs/cart.md, "How it talks to the product service")."""

from collections.abc import Iterable

from django.conf import settings
from django.core.cache import cache

from shop_common.product_catalog import CatalogProduct, fetch_products


def _key(product_id: int) -> str:
    return f"cart:product:{product_id}"


def current_products(ids: Iterable[int]) -> dict[int, CatalogProduct]:
    """The products' facts as the product service answers them now; kept for ``recent_products``."""
    products = fetch_products(set(ids))
    if products:
        cache.set_many(
            {_key(product_id): product for product_id, product in products.items()},
            timeout=settings.CART_CATALOG_CACHE_SECONDS,
        )
    return products


def recent_products(ids: Iterable[int]) -> dict[int, CatalogProduct]:
    """The products' facts at most ``CART_CATALOG_CACHE_SECONDS`` old: kept from an earlier answer,
    the others (unknown products too) asked now. Placement prices and reserves at the catalog
    anyway, so a fact this old can only let a line in that the checkout then refuses."""
    wanted = set(ids)
    if not wanted:
        return {}
    kept = cache.get_many([_key(product_id) for product_id in wanted])
    products = {product.id: product for product in kept.values()}
    return products | current_products(wanted - set(products))
