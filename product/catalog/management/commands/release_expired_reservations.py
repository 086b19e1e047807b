from typing import Any

from django.core.management.base import BaseCommand

from catalog.services import release_expired_reservations


class Command(BaseCommand):
    help = "Releases the stock of reservations older than RESERVATION_TTL_SECONDS that were never paid."

    def handle(self, *args: Any, **options: Any) -> None:
        released = release_expired_reservations()
        if released or options["verbosity"] > 1:
            self.stdout.write(
                f"released {len(released)} expired reservation(s): {', '.join(released)}"
            )
