from typing import Any

from django.core.management.base import BaseCommand

from payments.outbox import drain


class Command(BaseCommand):
    help = "Tells the order service what it missed about payments (paid, failed, refunded)."

    def handle(self, *args: Any, **options: Any) -> None:
        delivered, pending = drain()
        if delivered or pending or options["verbosity"] > 1:
            self.stdout.write(f"delivered {delivered} order notice(s), {pending} pending")
