from typing import Any

from django.core.management import call_command, get_commands
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = (
        "Makes the service ready to serve: creates a missing MySQL schema, migrates, runs the "
        "service's own setup_service command if it has one and, with --demo-data, its "
        "load_demo_data command."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--demo-data", action="store_true")

    def handle(self, *args: Any, demo_data: bool, **options: Any) -> None:
        verbosity = options["verbosity"]
        call_command("ensure_database", verbosity=verbosity)
        call_command("migrate", interactive=False, verbosity=verbosity)
        if "setup_service" in get_commands():
            call_command("setup_service", verbosity=verbosity)
        if demo_data and "load_demo_data" in get_commands():
            call_command("load_demo_data", verbosity=verbosity)
