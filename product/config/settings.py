"""Settings of the product service: the shared defaults of shop_common.conf, then its own."""

from pathlib import Path

from shop_common import conf
from shop_common.conf import StaffAdmin, service_settings

BASE_DIR = Path(__file__).resolve().parent.parent

globals().update(
    service_settings(
        service="product",
        base_dir=BASE_DIR,
        apps=["catalog"],
        # Staff log in to the admin with their user-service email and password; the admin session
        # ends when the user-service session does (shop_common.staff_admin, docs/catalog.md).
        staff_admin=StaffAdmin(
            group="Catalog staff",
            permissions={
                "catalog": {
                    "product": ("add", "change", "delete", "view"),
                    "category": ("add", "change", "delete", "view"),
                    "reservation": ("view",),
                    "reservationline": ("view",),
                }
            },
        ),
    )
)

# Seconds a cached catalog answer may be served (every write makes it stale at once); 0 disables.
CATALOG_CACHE_TTL = 300
# With Redis: seconds the catalog version's copy in Redis lives before it is read from the database
# again; the longest a write whose version raise was lost to a Redis outage can go unseen.
CATALOG_VERSION_RECHECK_SECONDS = 5
# Seconds stock stays reserved for an unpaid order before release_expired_reservations frees it.
RESERVATION_TTL_SECONDS = conf.RESERVATION_TTL_SECONDS
