import secrets
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from oauth2_provider.models import get_application_model

from accounts.services import register_service_client


class Command(BaseCommand):
    help = (
        "Creates (or, with --rotate, re-keys) the OAuth2 client of a shop service: confidential, "
        "client credentials, allowed the 'internal' scope. Prints the lines for its environment."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("name", help="the service, e.g. order")
        parser.add_argument(
            "--rotate", action="store_true", help="give an existing client a new secret"
        )
        parser.add_argument("--client-id", help="default: shop-<name>")
        parser.add_argument("--client-secret", help="default: a new random secret")

    def handle(self, *args: Any, name: str, rotate: bool, **options: Any) -> None:
        client_id = options["client_id"] or f"shop-{name}"
        secret = options["client_secret"] or secrets.token_urlsafe(40)
        exists = get_application_model().objects.filter(client_id=client_id).exists()
        if exists and not rotate and not options["client_secret"]:
            self.stderr.write(f"{client_id} exists; use --rotate for a new secret.")
            return
        try:
            register_service_client(name=name, client_id=client_id, secret=secret)
        except ValueError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(f"SERVICE_CLIENT_ID={client_id}\nSERVICE_CLIENT_SECRET={secret}\n")
