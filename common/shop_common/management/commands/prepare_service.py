from typing import Any

from django.core.management import call_command, get_commands
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = (
        "Makes the service ready to serve: creates a missing MySQL schema, migrates and, with "
        "--demo-data, loads the demo data of services that have some."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--demo-data", action="store_true")

    def handle(self, *args: Any, demo_data: bool, **options: Any) -> None:
        verbosity = options["verbosity"]
        call_command("ensure_database", verbosity=verbosity)
        call_command("migrate", interactive=False, verbosity=verbosity)
        if demo_data and "load_demo_data" in get_commands():
            call_command("load_demo_data", verbosity=verbosity)
