"""The OAuth2 provider: service credentials with scope `internal`, introspection, and the
authorization-code flow with PKCE that the /oauth/ page drives."""

import base64
import hashlib
import secrets
from urllib.parse import parse_qs, urlencode, urlparse

import pytest
from django.core.management import call_command
from oauth2_provider.models import get_application_model

from accounts.oauth_demo import DEMO_CLIENT_ID, register_demo_application

pytestmark = pytest.mark.django_db

REDIRECT_URI = "http://testserver/oauth/"


def basic(client_id: str, secret: str) -> str:
    return "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()


@pytest.fixture
def order_client():
    call_command(
        "create_service_client", "order", "--client-secret", "order-client-secret-".ljust(48, "3")
    )
    return "shop-order", "order-client-secret-".ljust(48, "3")


def service_token(client, credentials, scope="internal"):
    return client.post(
        "/o/token/",
        {"grant_type": "client_credentials", "scope": scope},
        HTTP_AUTHORIZATION=basic(*credentials),
    )


def test_a_service_client_gets_an_internal_token(client, order_client):
    response = service_token(client, order_client)

    assert response.status_code == 200
    assert response.json()["scope"] == "internal"


def test_a_client_secret_is_stored_with_the_client_secret_hasher(client, order_client):
    application = get_application_model().objects.get(client_id=order_client[0])
    algorithm, rounds, _salt, _digest = application.client_secret.split("$")

    assert (algorithm, rounds) == ("pbkdf2_sha256_client_secret", "1")
    assert service_token(client, order_client).status_code == 200


def test_a_wrong_client_secret_gets_no_token(client, order_client):
    response = service_token(client, (order_client[0], "wrong"))

    assert response.status_code == 401


def test_a_service_introspects_another_services_token(client, order_client):
    call_command(
        "create_service_client",
        "product",
        "--client-secret",
        "product-client-secret-".ljust(48, "1"),
    )
    token = service_token(client, order_client).json()["access_token"]
    product = ("shop-product", "product-client-secret-".ljust(48, "1"))
    introspector = service_token(client, product, scope="introspection").json()["access_token"]

    answer = client.post(
        "/o/introspect/", {"token": token}, HTTP_AUTHORIZATION=f"Bearer {introspector}"
    ).json()

    assert answer["active"] is True
    assert answer["scope"] == "internal"
    assert answer["client_id"] == "shop-order"


def test_a_service_token_is_not_a_user_token(api_client, client, order_client):
    token = service_token(client, order_client).json()["access_token"]

    assert api_client.post("/auth/validate/", {"token": token}).status_code == 401


def test_the_command_refuses_to_overwrite_a_client_without_rotate(order_client, capsys):
    call_command("create_service_client", "order")

    assert "exists" in capsys.readouterr().err


def pkce_pair() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = (
        base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    )
    return verifier, challenge


def authorize_query(challenge: str | None, scope: str = "read") -> dict:
    query = {
        "response_type": "code",
        "client_id": DEMO_CLIENT_ID,
        "redirect_uri": REDIRECT_URI,
        "scope": scope,
        "state": "state-123",
    }
    if challenge:
        query |= {"code_challenge": challenge, "code_challenge_method": "S256"}
    return query


def approve(client, query: dict) -> dict:
    """What the browser does on the consent page: post the form back with 'allow'."""
    response = client.post("/o/authorize/", {**query, "allow": "Authorize"})
    assert response.status_code == 302
    return parse_qs(urlparse(response["Location"]).query)


@pytest.fixture(autouse=True)
def demo_client(settings):
    """The /oauth/ page's client as `manage.py setup_service` registers it, for the test server."""
    settings.OAUTH_DEMO_REDIRECT_URIS = [REDIRECT_URI]
    return register_demo_application([REDIRECT_URI])


@pytest.fixture
def logged_in_browser(client, customer):
    page = client.get("/oauth/")
    assert page.status_code == 200
    assert DEMO_CLIENT_ID in page.content.decode()
    client.force_login(customer)
    return client


def test_authorization_code_with_pkce_gives_a_token_that_the_shop_accepts(
    logged_in_browser, api_client, customer
):
    verifier, challenge = pkce_pair()
    query = authorize_query(challenge)
    assert logged_in_browser.get("/o/authorize/?" + urlencode(query)).status_code == 200

    answer = approve(logged_in_browser, query)
    token = logged_in_browser.post(
        "/o/token/",
        {
            "grant_type": "authorization_code",
            "code": answer["code"][0],
            "redirect_uri": REDIRECT_URI,
            "client_id": DEMO_CLIENT_ID,
            "code_verifier": verifier,
        },
    )

    assert answer["state"] == ["state-123"]
    assert token.status_code == 200
    validated = api_client.post("/auth/validate/", {"token": token.json()["access_token"]})
    assert validated.status_code == 200
    assert validated.json()["user_id"] == customer.id


def test_the_code_is_useless_without_its_verifier(logged_in_browser):
    _, challenge = pkce_pair()
    answer = approve(logged_in_browser, authorize_query(challenge))

    response = logged_in_browser.post(
        "/o/token/",
        {
            "grant_type": "authorization_code",
            "code": answer["code"][0],
            "redirect_uri": REDIRECT_URI,
            "client_id": DEMO_CLIENT_ID,
            "code_verifier": "x" * 50,
        },
    )

    assert response.status_code == 400


def test_pkce_is_required(logged_in_browser):
    response = logged_in_browser.get("/o/authorize/?" + urlencode(authorize_query(None)))

    assert response.status_code == 302
    assert "error=invalid_request" in response["Location"]


def test_an_app_acting_for_a_person_cannot_get_the_internal_scope(logged_in_browser):
    _, challenge = pkce_pair()

    response = logged_in_browser.get(
        "/o/authorize/?" + urlencode(authorize_query(challenge, scope="internal"))
    )

    assert response.status_code == 302
    assert "error=invalid_scope" in response["Location"]


def test_authorize_sends_an_anonymous_person_to_the_login_page(client):
    client.get("/oauth/")
    _, challenge = pkce_pair()

    response = client.get("/o/authorize/?" + urlencode(authorize_query(challenge)))

    assert response.status_code == 302
    assert response["Location"].startswith("/login/?next=")


def test_the_login_page_logs_a_person_in_by_email(client, customer):
    from accounts.tests.factories import PASSWORD

    wrong = client.post("/login/", {"username": customer.email, "password": "nope"})
    right = client.post(
        "/login/", {"username": customer.email.upper(), "password": PASSWORD, "next": "/oauth/"}
    )

    assert wrong.status_code == 200
    assert b"wrong" in wrong.content
    assert right.status_code == 302
    assert right["Location"] == "/oauth/"
