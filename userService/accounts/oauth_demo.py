"""The page a person opens to get an OAuth2 token for themselves (authorization code with PKCE).

The page is a public client: its JavaScript makes the PKCE verifier, sends the browser to
/o/authorize/ (log in, approve), and trades the returned code for a token at /o/token/.
"""

from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views import View
from oauth2_provider.models import get_application_model

DEMO_CLIENT_ID = "shop-oauth-demo"


@transaction.atomic
def demo_application(redirect_uri: str):
    """The page's own public client, registered on first use; each host it is served on is added
    to its redirect URIs (the host is one Django accepts, so ALLOWED_HOSTS bounds the list)."""
    Application = get_application_model()
    application, _ = Application.objects.select_for_update().get_or_create(
        client_id=DEMO_CLIENT_ID,
        defaults={
            "name": "Shop OAuth page",
            "client_type": Application.CLIENT_PUBLIC,
            "authorization_grant_type": Application.GRANT_AUTHORIZATION_CODE,
            "redirect_uris": redirect_uri,
            "skip_authorization": False,
            "algorithm": "",
        },
    )
    if redirect_uri not in application.redirect_uris.split():
        application.redirect_uris = f"{application.redirect_uris} {redirect_uri}".strip()
        application.save(update_fields=["redirect_uris"])
    return application


class OAuthDemoPage(View):
    def get(self, request: HttpRequest) -> HttpResponse:
        redirect_uri = request.build_absolute_uri(request.path)
        application = demo_application(redirect_uri)
        return render(
            request,
            "accounts/oauth_demo.html",
            {"client_id": application.client_id, "redirect_uri": redirect_uri},
        )
