from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.db import connections

from shop_common.databases import DatabaseServerUnreachable, create_mysql_schema


class Command(BaseCommand):
    help = "Creates this service's MySQL/MariaDB schema (utf8mb4) if it is missing; SQLite needs nothing."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--database", default="default")

    def handle(self, *args: Any, database: str, **options: Any) -> None:
        connection = connections[database]
        if connection.vendor != "mysql":
            return
        try:
            created = create_mysql_schema(connection.settings_dict)
        except DatabaseServerUnreachable as exc:
            raise CommandError(str(exc)) from exc
        name = connection.settings_dict["NAME"]
        self.stdout.write(f"Created schema {name}" if created else f"Schema {name} exists")
