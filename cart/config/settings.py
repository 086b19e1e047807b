"""Settings of the cart service: the shared defaults of shop_common.conf, then its own."""

from pathlib import Path

from shop_common import conf
from shop_common.conf import service_settings

BASE_DIR = Path(__file__).resolve().parent.parent

globals().update(service_settings(service="cart", base_dir=BASE_DIR, apps=["carts"]))

# The most of one product a cart line may hold.
CART_MAX_LINE_QUANTITY = 99
# The currency an empty cart reports: the catalog's default (catalog.models.Product.currency).
DEFAULT_CURRENCY = "USD"
# How long a cart keeps its checkout: another checkout meanwhile places the same order (or is told
# its number); after it, that order, unpaid, has expired with its reservation, and a checkout is new.
CART_CHECKOUT_SECONDS = conf.RESERVATION_TTL_SECONDS
# How old the catalog facts that adding to a cart checks may be (carts.clients.recent_products):
# the cart page asks the product service every time, and placing the order prices and reserves.
CART_CATALOG_CACHE_SECONDS = 30
