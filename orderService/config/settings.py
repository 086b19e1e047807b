"""Settings of the order service: the shared defaults of shop_common.conf, then its own."""

from decimal import Decimal
from pathlib import Path

from shop_common import conf
from shop_common.conf import environment, service_settings

BASE_DIR = Path(__file__).resolve().parent.parent

globals().update(service_settings(service="order", base_dir=BASE_DIR, apps=["orders"]))
env = environment(BASE_DIR)

# Tax on the subtotal (rounded half-up to cents) and flat shipping; the first release's 8 % and 10.00.
ORDER_TAX_RATE = Decimal(env("ORDER_TAX_RATE", default="0.08"))
ORDER_SHIPPING_FLAT = Decimal(env("ORDER_SHIPPING_FLAT", default="10.00"))
# PENDING orders older than this are cancelled and their stock released (the product service's
# reservations end with them).
RESERVATION_TTL_SECONDS = conf.RESERVATION_TTL_SECONDS

# Seconds a customer's history page stays cached (0: not cached); any change to their orders
# gives a new key at once (orders.cache), so this only bounds how long an unread page is kept.
ORDER_HISTORY_CACHE_TTL = 300
# History pages stay in each worker's memory, even with Redis: their version is read from the
# database on every request anyway, so a shared copy would only add a round trip. A page of 100
# orders is tens of kB: 200 pages keep a worker's share small.
CACHES = {
    **CACHES,  # noqa: F821 (set by service_settings)
    "history": {
        "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
        "LOCATION": "order-history",
        "OPTIONS": {"MAX_ENTRIES": 200},
    },
}

# One name for the order states wherever they appear in the OpenAPI schema.
SPECTACULAR_SETTINGS = {
    **SPECTACULAR_SETTINGS,  # noqa: F821 (set by service_settings)
    "ENUM_NAME_OVERRIDES": {"OrderStatusEnum": "orders.models.OrderStatus"},
}
