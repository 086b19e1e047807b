from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "The product service's demo data: the demo catalog (seed_catalog)."

    def handle(self, *args: Any, **options: Any) -> None:
        call_command("seed_catalog", verbosity=options["verbosity"])
