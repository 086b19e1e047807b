from typing import Any

from django.conf import settings
from django.contrib.auth.hashers import check_password
from django.core.management.base import BaseCommand, CommandError
from oauth2_provider.models import get_application_model

from accounts.oauth_demo import register_demo_application
from accounts.services import register_service_client
from shop_common.conf import environment
from shop_common.topology import SERVICES


class Command(BaseCommand):
    help = (
        "Registers the OAuth2 client of every shop service whose secret is in the environment "
        "(<NAME>_CLIENT_SECRET), so that services can call each other's /internal/ endpoints. "
        "`make run` and the test stacks run it through prepare_service. Also sets the redirect "
        "URIs of the /oauth/ page's client to OAUTH_DEMO_REDIRECT_URIS."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        Application = get_application_model()
        env = environment(settings.BASE_DIR)  # the environment, then .env, as the services read it
        for service in SERVICES:
            secret = env(service.client_secret_variable, default="")
            if not secret:
                continue
            existing = Application.objects.filter(client_id=service.client_id).first()
            if existing is None or not check_password(secret, existing.client_secret):
                try:
                    register_service_client(
                        name=service.name, client_id=service.client_id, secret=secret
                    )
                except ValueError as exc:
                    raise CommandError(f"{service.client_secret_variable}: {exc}") from None
                self.stdout.write(f"service client {service.client_id} registered")
        register_demo_application(settings.OAUTH_DEMO_REDIRECT_URIS)
