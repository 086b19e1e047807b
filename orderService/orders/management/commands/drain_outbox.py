from typing import Any

from django.core.management.base import BaseCommand

from orders.outbox import drain


class Command(BaseCommand):
    help = "Delivers the stock releases the product service could not take when they were made."

    def handle(self, *args: Any, **options: Any) -> None:
        # Every pending call, due or not: this job runs once a minute, which is its own pace.
        delivered, pending = drain(due_only=False)
        if delivered or pending or options["verbosity"] > 1:
            self.stdout.write(f"delivered {delivered} outbox call(s), {pending} pending")
