"""The services' own tokens are JWTs signed here (accounts.signed_service_tokens): each service
checks them with the keys published at /o/jwks/, and this service still stores, revokes and
introspects them like any other token (docs/auth.md, "Service identities")."""

import uuid
from urllib.parse import urlencode

import jwt
import pytest
from django.test import override_settings

from accounts.tests.test_trust_boundaries import basic, service_secret, shop_service_token
from shop_common import signed_tokens
from shop_common.auth import SERVICE_CLIENTS

pytestmark = pytest.mark.django_db


def published(client) -> dict:
    response = client.get("/o/jwks/")
    assert response.status_code == 200
    return signed_tokens.public_keys_from(response.json())


def test_a_service_token_is_signed_for_that_service_and_checks_with_the_published_keys(client):
    token = shop_service_token(client, "order", scope="internal")

    claims = signed_tokens.verify(token, published(client), clients=SERVICE_CLIENTS)

    assert claims.client_id == "shop-order"
    assert claims.scopes == {"internal"}


@override_settings(SERVICE_TOKEN_SECONDS=120)
def test_a_service_token_lives_service_token_seconds(client):
    secret = service_secret("cart")
    shop_service_token(client, "cart")  # registers the client
    answer = client.post(
        "/o/token/",
        urlencode({"grant_type": "client_credentials", "scope": "internal"}),
        content_type="application/x-www-form-urlencoded",
        HTTP_AUTHORIZATION=basic("shop-cart", secret),
    ).json()

    claims = jwt.decode(answer["access_token"], options={"verify_signature": False})
    assert answer["expires_in"] == 120
    assert claims["exp"] - claims["iat"] == 120


def test_the_key_set_holds_public_keys_only(client):
    keys = client.get("/o/jwks/").json()["keys"]

    assert len(keys) == 1
    assert set(keys[0]) == {"kty", "crv", "x", "kid", "use", "alg"}
    assert "d" not in keys[0]


def test_while_a_key_is_replaced_both_are_published_and_the_new_one_signs(client, settings):
    old = settings.SERVICE_TOKEN_SIGNING_KEY
    before = shop_service_token(client, "order")
    settings.SERVICE_TOKEN_SIGNING_KEY = f"{uuid.uuid4().hex}{uuid.uuid4().hex},{old}"

    after = shop_service_token(client, "order")
    keys = published(client)

    assert len(keys) == 2
    assert jwt.get_unverified_header(after)["kid"] != jwt.get_unverified_header(before)["kid"]
    for token in (before, after):
        assert signed_tokens.verify(token, keys, clients=SERVICE_CLIENTS).client_id == "shop-order"


def test_a_revoked_service_token_is_refused_here_at_once(api_client):
    token = shop_service_token(api_client, "payment")
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    path = f"/internal/sessions/{uuid.uuid4()}/"
    assert api_client.get(path, **headers).status_code == 404  # taken: no such session

    revoked = api_client.post(
        "/o/revoke_token/",
        urlencode({"token": token}),
        content_type="application/x-www-form-urlencoded",
        HTTP_AUTHORIZATION=basic("shop-payment", service_secret("payment")),
    )

    assert revoked.status_code == 200
    assert api_client.get(path, **headers).status_code == 401


def test_introspection_still_answers_for_a_signed_token(client):
    token = shop_service_token(client, "order")
    introspector = shop_service_token(client, "product", scope="introspection")

    answer = client.post(
        "/o/introspect/", {"token": token}, HTTP_AUTHORIZATION=f"Bearer {introspector}"
    ).json()

    assert answer["active"] is True
    assert answer["client_id"] == "shop-order"
