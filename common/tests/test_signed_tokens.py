"""Service tokens each service checks itself (shop_common.signed_tokens): only a token the user
service's published key signed, for the shop's services, unexpired, with this issuer and audience
opens an internal endpoint, and none of the checks asks the user service per token."""

import base64
import json
import time

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from shop_common import signed_tokens
from shop_common.testing.fakes import FAKE_SERVICE_TOKEN_KEY

pytestmark = pytest.mark.django_db

CART = "shop-cart"


def signed(
    key: Ed25519PrivateKey = FAKE_SERVICE_TOKEN_KEY,
    *,
    headers: dict | None = None,
    **changes,
) -> str:
    now = int(time.time())
    claims = {
        "iss": signed_tokens.ISSUER,
        "aud": signed_tokens.AUDIENCE,
        "sub": CART,
        "client_id": CART,
        "scope": "internal",
        "iat": now,
        "exp": now + 600,
        "jti": "j1",
        **changes,
    }
    claims = {name: value for name, value in claims.items() if value is not None}
    header = {"kid": signed_tokens.key_id(key.public_key()), "typ": "at+jwt", **(headers or {})}
    return jwt.encode(claims, key, algorithm="EdDSA", headers=header)


def ping(client, token: str):
    return client.get("/internal/ping/", HTTP_AUTHORIZATION=f"Bearer {token}")


def test_a_signed_service_token_opens_the_endpoint_without_an_introspection(client, user_service):
    token = user_service.service_token(client_id=CART)

    answers = [ping(client, token) for _ in range(3)]

    assert [answer.status_code for answer in answers] == [200, 200, 200]
    assert answers[0].json() == {"client_id": CART}
    assert user_service.introspect.call_count == 0
    assert user_service.jwks.call_count == 1  # the keys, once per process


def test_a_service_token_of_another_shop_service_is_a_403(client, user_service):
    response = ping(client, user_service.service_token(client_id="shop-order"))

    assert response.status_code == 403


def test_without_the_internal_scope_it_is_a_403(client, user_service):
    response = ping(client, signed(scope="introspection"))

    assert response.status_code == 403


def tampered(token: str) -> str:
    header, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["scope"] = "internal admin"
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    return f"{header}.{forged}.{signature}"


def other_key_with_our_kid() -> str:
    other = Ed25519PrivateKey.generate()
    return signed(other, headers={"kid": signed_tokens.key_id(FAKE_SERVICE_TOKEN_KEY.public_key())})


def hs256_with_the_public_key() -> str:
    # Algorithm confusion: an HMAC "signed" with the published public key.
    public = signed_tokens.jwks([FAKE_SERVICE_TOKEN_KEY])["keys"][0]
    kid = public["kid"]
    return jwt.encode(
        {"iss": signed_tokens.ISSUER, "aud": signed_tokens.AUDIENCE, "client_id": CART},
        public["x"].encode().ljust(32, b"x"),
        algorithm="HS256",
        headers={"kid": kid, "typ": "at+jwt"},
    )


def unsigned() -> str:
    return signed(FAKE_SERVICE_TOKEN_KEY).rsplit(".", 1)[0] + ".AAAA"


@pytest.mark.parametrize(
    "make",
    [
        pytest.param(lambda: tampered(signed()), id="claims changed after signing"),
        pytest.param(other_key_with_our_kid, id="another key, the published key id"),
        pytest.param(lambda: signed(Ed25519PrivateKey.generate()), id="another key"),
        pytest.param(lambda: signed(exp=int(time.time()) - 60), id="expired"),
        pytest.param(lambda: signed(aud="somewhere-else"), id="wrong audience"),
        pytest.param(lambda: signed(iss="someone-else"), id="wrong issuer"),
        pytest.param(lambda: signed(aud=None), id="no audience"),
        pytest.param(lambda: signed(exp=None), id="no expiry"),
        pytest.param(
            lambda: signed(client_id="partner-app", sub="partner-app"), id="no shop client"
        ),
        pytest.param(lambda: signed(sub="shop-order"), id="subject is another client"),
        pytest.param(lambda: signed(headers={"typ": "JWT"}), id="not an access token type"),
        pytest.param(hs256_with_the_public_key, id="HS256 with the public key"),
        pytest.param(unsigned, id="signature cut"),
    ],
)
def test_a_forged_or_stale_token_is_a_401_without_asking_the_user_service(
    client, user_service, make
):
    ping(client, user_service.service_token(client_id=CART))  # the keys, fetched once

    response = ping(client, make())

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "invalid_token"
    assert user_service.introspect.call_count == 0


def test_unknown_key_ids_fetch_the_keys_again_at_most_once_in_a_while(client, user_service):
    ping(client, user_service.service_token(client_id=CART))

    answers = {ping(client, signed(Ed25519PrivateKey.generate())).status_code for _ in range(5)}

    assert answers == {401}
    # Fetched just now: no fetch again before REFETCH_SECONDS, however many unknown ids come.
    assert user_service.jwks.call_count == 1


def test_a_rotated_key_is_found_by_fetching_the_keys_again(client, user_service, monkeypatch):
    ping(client, user_service.service_token(client_id=CART))
    new_key = Ed25519PrivateKey.generate()
    # The last fetch was just now: allow the next one at once.
    monkeypatch.setattr(signed_tokens, "REFETCH_SECONDS", 0.0)
    user_service.jwks.side_effect = lambda request: httpx.Response(
        200, json=signed_tokens.jwks([new_key, FAKE_SERVICE_TOKEN_KEY])
    )

    assert ping(client, signed(new_key)).status_code == 200
    assert user_service.jwks.call_count == 2


def test_the_user_service_down_before_the_keys_are_known_is_a_503_not_a_401(client, user_service):
    user_service.down = True

    response = ping(client, signed())

    assert response.status_code == 503
    assert response.json()["error"]["details"]["service"] == "user"


def test_once_the_keys_are_known_the_user_service_is_not_needed(client, user_service):
    ping(client, signed())
    user_service.down = True

    assert ping(client, signed()).status_code == 200


def test_an_outside_applications_opaque_token_is_still_introspected(client, user_service):
    token = user_service.service_token(client_id="partner-app")

    response = ping(client, token)

    assert response.status_code == 403  # known, but no shop service
    assert user_service.introspect.call_count == 1


def test_a_verified_token_is_not_checked_again_until_it_expires(client, user_service, monkeypatch):
    token = signed()
    assert ping(client, token).status_code == 200
    checks = []
    original = signed_tokens.verify
    monkeypatch.setattr(
        signed_tokens,
        "verify",
        lambda *args, **kwargs: checks.append(1) or original(*args, **kwargs),
    )

    assert ping(client, token).status_code == 200
    assert checks == []

    expired = signed(exp=int(time.time()) - 60)
    # As if it had been verified while it was valid: past its expiry it is checked again, and refused.
    signed_tokens._verified[expired] = signed_tokens.ServiceClaims(
        client_id=CART, scopes=frozenset({"internal"}), expires=int(time.time()) - 60
    )
    assert ping(client, expired).status_code == 401
    assert checks == [1]
