import secrets
from typing import Any

from django.core.management.base import BaseCommand
from oauth2_provider.models import get_application_model


class Command(BaseCommand):
    help = (
        "Creates (or, with --rotate, re-keys) the OAuth2 client of a shop service: confidential, "
        "client credentials, allowed the 'internal' scope. Prints the lines for its .env."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("name", help="the service, e.g. order")
        parser.add_argument(
            "--rotate", action="store_true", help="give an existing client a new secret"
        )
        parser.add_argument("--client-id", help="default: shop-<name>")
        parser.add_argument("--client-secret", help="default: a new random secret")

    def handle(
        self,
        *args: Any,
        name: str,
        rotate: bool,
        client_id: str | None,
        client_secret: str | None,
        **options: Any,
    ) -> None:
        Application = get_application_model()
        client_id = client_id or f"shop-{name}"
        secret = client_secret or secrets.token_urlsafe(40)
        application = Application.objects.filter(client_id=client_id).first()
        if application and not rotate and not client_secret:
            self.stderr.write(f"{client_id} exists; use --rotate for a new secret.")
            return
        if application is None:
            application = Application(
                client_id=client_id,
                name=f"{name} service",
                client_type=Application.CLIENT_CONFIDENTIAL,
                authorization_grant_type=Application.GRANT_CLIENT_CREDENTIALS,
                algorithm="",
            )
        application.client_secret = secret  # hashed on save
        application.save()
        self.stdout.write(f"SERVICE_CLIENT_ID={client_id}\nSERVICE_CLIENT_SECRET={secret}\n")
