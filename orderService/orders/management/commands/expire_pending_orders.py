from typing import Any

from django.core.management.base import BaseCommand

from orders.services import expire_pending_orders


class Command(BaseCommand):
    help = "Cancels PENDING orders older than RESERVATION_TTL_SECONDS and releases their stock."

    def handle(self, *args: Any, **options: Any) -> None:
        expired = expire_pending_orders()
        if expired or options["verbosity"] > 1:
            self.stdout.write(f"cancelled {len(expired)} expired order(s): {', '.join(expired)}")
