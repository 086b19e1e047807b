"""The page a person opens to get an OAuth2 token for themselves (authorization code with PKCE).

The page is a public, first-party client: its JavaScript makes the PKCE verifier, sends the
browser to /o/authorize/ (log in, approve), and trades the returned code for a token at /o/token/.
Its redirect URIs are configuration (``OAUTH_DEMO_REDIRECT_URIS``), written to the client by
``manage.py setup_service``; a request never adds one (docs/auth.md, "OAuth2").
"""

from django.conf import settings
from django.db import transaction
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.views import View
from oauth2_provider.models import get_application_model

DEMO_CLIENT_ID = "shop-oauth-demo"


@transaction.atomic
def register_demo_application(redirect_uris: list[str]):
    """Creates the page's client, or sets its redirect URIs to exactly ``redirect_uris``."""
    Application = get_application_model()
    application, _ = Application.objects.select_for_update().get_or_create(
        client_id=DEMO_CLIENT_ID,
        defaults={
            "name": "Shop OAuth page",
            "client_type": Application.CLIENT_PUBLIC,
            "authorization_grant_type": Application.GRANT_AUTHORIZATION_CODE,
            "skip_authorization": False,
            "algorithm": "",
        },
    )
    wanted = " ".join(redirect_uris)
    if application.redirect_uris != wanted:
        application.redirect_uris = wanted
        application.save(update_fields=["redirect_uris"])
    return application


class OAuthDemoPage(View):
    def get(self, request: HttpRequest) -> HttpResponse:
        configured = settings.OAUTH_DEMO_REDIRECT_URIS
        here = request.build_absolute_uri(request.path)
        if here not in configured:
            # The browser must come back to the origin that holds its PKCE verifier: send it to
            # the page's configured address rather than learn a new one from the Host header.
            return HttpResponseRedirect(configured[0])
        return render(
            request, "accounts/oauth_demo.html", {"client_id": DEMO_CLIENT_ID, "redirect_uri": here}
        )
