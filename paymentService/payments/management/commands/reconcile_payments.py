from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand

from payments.services.reconciliation import reconcile_open_payments


class Command(BaseCommand):
    help = "Applies what lost webhooks would have: asks the gateway about checkouts still open."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--older-than", type=int, default=None, help="minutes (default RECONCILE_AFTER_MINUTES)"
        )

    def handle(self, *args: Any, older_than: int | None, **options: Any) -> None:
        outcomes = reconcile_open_payments(
            older_than_minutes=older_than
            if older_than is not None
            else settings.RECONCILE_AFTER_MINUTES
        )
        if outcomes or options["verbosity"] > 1:
            self.stdout.write(f"reconciled {len(outcomes)} payment(s): {', '.join(outcomes)}")
