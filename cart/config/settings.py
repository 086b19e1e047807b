"""Settings of the cart service: the shared defaults of shop_common.conf, then its own."""

from pathlib import Path

from shop_common.conf import environment, service_settings

BASE_DIR = Path(__file__).resolve().parent.parent

globals().update(service_settings(service="cart", base_dir=BASE_DIR, apps=["carts"]))
env = environment(BASE_DIR)

# The most of one product a cart line may hold.
CART_MAX_LINE_QUANTITY = env("CART_MAX_LINE_QUANTITY", default=99, cast=int)
# The currency an empty cart reports.
DEFAULT_CURRENCY = env("DEFAULT_CURRENCY", default="USD")
