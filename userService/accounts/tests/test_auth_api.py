"""Signup, login, refresh, logout and validation over the API, with every way a token can be bad."""

import base64
import json
from datetime import datetime, timedelta

import jwt
import pytest
from django.core import mail
from rest_framework_simplejwt.tokens import AccessToken

from accounts import throttles, tokens
from accounts.models import LoginSession, User
from accounts.tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db


def error_code(response) -> str:
    return response.json()["error"]["code"]


# --- signup ----------------------------------------------------------------------------------


def test_signup_creates_a_customer_whatever_role_is_asked_for(api_client):
    response = api_client.post(
        "/auth/signup/",
        {
            "email": "New@Shop.test",
            "password": PASSWORD,
            "username": "newbie",
            "role": "ADMIN",
            "roles": ["ADMIN"],
        },
    )

    assert response.status_code == 201
    body = response.json()
    assert "id" not in body, "the answer must not differ from the one for a taken email"
    assert body["email"] == "new@shop.test"
    assert body["username"] == "newbie"
    assert body["roles"] == ["CUSTOMER"]
    assert "password" not in body
    user = User.objects.get(email="new@shop.test")
    assert user.check_password(PASSWORD)
    assert not user.is_staff


def test_signup_with_a_taken_email_answers_as_a_new_one_and_tells_the_owner(api_client, customer):
    fresh = api_client.post("/auth/signup/", {"email": "fresh@shop.test", "password": PASSWORD})
    mail.outbox.clear()
    taken = api_client.post(
        "/auth/signup/", {"email": customer.email.upper(), "password": "another-long-passphrase-9"}
    )

    assert taken.status_code == fresh.status_code == 201
    assert set(taken.json()) == set(fresh.json())
    assert taken.json()["roles"] == fresh.json()["roles"] == ["CUSTOMER"]
    assert taken.json()["message"] == fresh.json()["message"]
    assert User.objects.filter(email=customer.email).count() == 1
    customer.refresh_from_db()
    assert customer.check_password(PASSWORD), "nothing about the existing account changed"
    assert [message.to for message in mail.outbox] == [[customer.email]]


@pytest.mark.parametrize("password", ["short", "12345678901", "password123"])
def test_signup_with_a_weak_password_is_a_400_naming_the_password(api_client, password):
    response = api_client.post("/auth/signup/", {"email": "weak@shop.test", "password": password})

    assert response.status_code == 400
    assert error_code(response) == "validation_error"
    assert "password" in response.json()["error"]["details"]
    assert not User.objects.filter(email="weak@shop.test").exists()


@pytest.mark.parametrize(
    "body", [{}, {"email": "not-an-email", "password": PASSWORD}, {"email": "a@b.test"}]
)
def test_signup_with_missing_or_bad_fields_is_a_400(api_client, body):
    response = api_client.post("/auth/signup/", body)

    assert response.status_code == 400
    assert error_code(response) == "validation_error"


# --- login -----------------------------------------------------------------------------------


def test_login_returns_tokens_expiry_and_the_user_and_records_the_session(api_client, customer):
    response = api_client.post(
        "/auth/login/",
        {"email": customer.email.upper(), "password": PASSWORD},
        HTTP_USER_AGENT="pytest-agent",
    )

    assert response.status_code == 200
    body = response.json()
    assert set(body) >= {"access", "refresh", "expires_in", "user"}
    assert body["expires_in"] == 300
    assert body["user"]["id"] == customer.id
    assert body["user"]["roles"] == ["CUSTOMER"]
    session = LoginSession.objects.get(user=customer)
    assert session.user_agent == "pytest-agent"
    assert session.ip_address == "127.0.0.1"
    assert session.revoked_at is None


def test_unknown_email_wrong_password_and_inactive_user_get_the_same_401(api_client, customer):
    inactive = UserFactory(is_active=False)
    answers = [
        api_client.post("/auth/login/", {"email": "nobody@shop.test", "password": PASSWORD}),
        api_client.post("/auth/login/", {"email": customer.email, "password": "wrong-password-1"}),
        api_client.post("/auth/login/", {"email": inactive.email, "password": PASSWORD}),
    ]

    assert {response.status_code for response in answers} == {401}
    assert len({response.content for response in answers}) == 1
    assert error_code(answers[0]) == "invalid_credentials"


@pytest.fixture
def waits(monkeypatch) -> list[float]:
    """The slowdown's waits, recorded instead of slept."""
    taken: list[float] = []
    monkeypatch.setattr(throttles, "hold", taken.append)
    return taken


def test_the_right_password_is_refused_only_from_the_address_that_guessed(
    api_client, customer, settings, waits
):
    settings.PASSWORD_FAILURES_PER_ACCOUNT = "3/15m"
    for _ in range(3):
        api_client.post(
            "/auth/login/", {"email": customer.email, "password": "bad"}, REMOTE_ADDR="10.0.0.1"
        )

    guesser = api_client.post(
        "/auth/login/", {"email": customer.email, "password": PASSWORD}, REMOTE_ADDR="10.0.0.1"
    )
    owner = api_client.post(
        "/auth/login/", {"email": customer.email, "password": PASSWORD}, REMOTE_ADDR="10.0.0.2"
    )

    assert guesser.status_code == 429
    assert error_code(guesser) == "throttled"
    assert int(guesser["Retry-After"]) > 0
    assert owner.status_code == 200


def test_guesses_from_many_addresses_slow_the_account_down_but_never_lock_it(
    api_client, customer, settings, waits
):
    settings.PASSWORD_FAILURES_PER_ACCOUNT = "3/15m"
    for n in range(40):
        assert (
            api_client.post(
                "/auth/login/",
                {"email": customer.email, "password": "bad"},
                REMOTE_ADDR=f"10.0.{n // 2}.{n}",
            ).status_code
            == 401
        )

    owner = api_client.post(
        "/auth/login/", {"email": customer.email, "password": PASSWORD}, REMOTE_ADDR="10.9.9.9"
    )

    assert owner.status_code == 200
    # Past the pair limit each failure doubles the wait, up to the bound.
    assert waits[:4] == [0.25, 0.5, 1.0, 2.0]
    assert max(waits) == throttles.SLOWDOWN_MAX_SECONDS == waits[-1]


def test_login_is_throttled_per_address_across_emails(api_client, settings):
    settings.PASSWORD_FAILURES_PER_ADDRESS = "3/15m"
    for n in range(3):
        api_client.post("/auth/login/", {"email": f"guess{n}@shop.test", "password": "x"})

    assert (
        api_client.post("/auth/login/", {"email": "other@shop.test", "password": "x"}).status_code
        == 429
    )


# --- validate --------------------------------------------------------------------------------


def test_validate_answers_the_flat_shape_for_a_token_in_the_body(api_client, customer, tokens_for):
    pair = tokens_for(customer)

    response = api_client.post("/auth/validate/", {"token": pair.access})

    assert response.status_code == 200
    body = response.json()
    assert body["user_id"] == customer.id
    assert body["email"] == customer.email
    assert body["username"] == customer.username
    assert body["roles"] == ["CUSTOMER"]
    assert body["expires_at"] == pair.access_expires_at.isoformat().replace("+00:00", "Z")


def test_validate_takes_the_token_from_the_authorization_header(api_client, staff, tokens_for):
    response = api_client.post(
        "/auth/validate/", HTTP_AUTHORIZATION=f"Bearer {tokens_for(staff).access}"
    )

    assert response.status_code == 200
    assert response.json()["roles"] == ["STAFF"]


@pytest.mark.parametrize("body", ["true", "[]", '{"token": 5}', '{"token": ""}'])
def test_validate_refuses_a_body_that_is_not_a_token_even_with_a_good_header(
    api_client, staff, tokens_for, body
):
    # A header's good token must not make a malformed body look accepted (schemathesis'
    # negative_data_rejection): the body is either absent or {"token": "<access token>"}.
    response = api_client.post(
        "/auth/validate/",
        body,
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {tokens_for(staff).access}",
    )

    assert response.status_code == 400
    assert error_code(response) == "validation_error"


def test_legacy_get_validate_token_accepts_header_and_query(api_client, customer, tokens_for):
    access = tokens_for(customer).access

    by_header = api_client.get("/auth/validate_token", HTTP_AUTHORIZATION=f"Bearer {access}")
    by_query = api_client.get(f"/auth/validate_token?token={access}")
    with_slash = api_client.get("/auth/validate_token/", HTTP_AUTHORIZATION=f"Bearer {access}")

    assert by_header.status_code == by_query.status_code == with_slash.status_code == 200
    assert by_header.json()["user_id"] == by_query.json()["user_id"] == customer.id


def test_validate_costs_at_most_one_query(
    api_client, admin_user, tokens_for, django_assert_max_num_queries
):
    access = tokens_for(admin_user).access

    with django_assert_max_num_queries(1):
        response = api_client.post("/auth/validate/", {"token": access})

    assert response.status_code == 200


def test_a_remembered_access_token_is_refused_once_it_expires(
    api_client, customer, tokens_for, monkeypatch
):
    access = tokens_for(customer).access
    claims = tokens.decode_access(access)  # its signature checked once, and remembered

    class OneSecondAfterItsExpiry(datetime):
        @classmethod
        def now(cls, tz=None) -> datetime:
            return claims.expires_at + timedelta(seconds=1)

    monkeypatch.setattr(tokens, "datetime", OneSecondAfterItsExpiry)

    assert api_client.post("/auth/validate/", {"token": access}).status_code == 401


def _forged(access: str, **changes) -> str:
    header, payload, signature = access.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims.update(changes)
    body = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    return f"{header}.{body}.{signature}"


def _bad_tokens(user, pair, settings) -> dict[str, str]:
    claims = jwt.decode(pair.access, options={"verify_signature": False})
    expired = AccessToken()
    expired["user_id"] = user.id
    expired["sid"] = claims["sid"]
    expired.set_exp(lifetime=timedelta(seconds=-10))
    return {
        "refresh token": pair.refresh,
        "tampered payload": _forged(pair.access, user_id=user.id + 1000),
        "alg none": jwt.encode({**claims}, key=None, algorithm="none"),
        "wrong key": jwt.encode(claims, "another-key-another-key-another-key!!", algorithm="HS256"),
        "expired": str(expired),
        "garbage": "not-a-token",
        "empty segments": "..",
    }


@pytest.mark.parametrize(
    "kind",
    [
        "refresh token",
        "tampered payload",
        "alg none",
        "wrong key",
        "expired",
        "garbage",
        "empty segments",
    ],
)
def test_validate_refuses_every_bad_token_with_invalid_token(
    api_client, customer, tokens_for, settings, kind
):
    token = _bad_tokens(customer, tokens_for(customer), settings)[kind]

    response = api_client.post("/auth/validate/", {"token": token})

    assert response.status_code == 401
    assert error_code(response) == "invalid_token"


def test_validate_without_any_token_is_a_401(api_client):
    response = api_client.post("/auth/validate/", {})

    assert response.status_code == 401
    assert error_code(response) == "invalid_token"


def test_validate_refuses_the_token_of_a_deactivated_user(api_client, customer, tokens_for):
    access = tokens_for(customer).access
    User.objects.filter(pk=customer.pk).update(is_active=False)

    assert api_client.post("/auth/validate/", {"token": access}).status_code == 401


# --- logout and refresh ----------------------------------------------------------------------


def test_logout_revokes_access_and_refresh_at_once(api_client, customer, tokens_for):
    pair = tokens_for(customer)

    response = api_client.post("/auth/logout/", HTTP_AUTHORIZATION=f"Bearer {pair.access}")

    assert response.status_code == 204
    assert api_client.post("/auth/validate/", {"token": pair.access}).status_code == 401
    assert api_client.post("/auth/refresh/", {"refresh": pair.refresh}).status_code == 401
    assert LoginSession.objects.get(user=customer).revoked_reason == "logout"


def test_logout_with_the_refresh_token_alone_kills_the_access_token(
    api_client, customer, tokens_for
):
    pair = tokens_for(customer)

    assert api_client.post("/auth/logout/", {"refresh": pair.refresh}).status_code == 204
    assert api_client.post("/auth/validate/", {"token": pair.access}).status_code == 401


def test_logout_ends_only_that_session(api_client, customer, tokens_for):
    first, second = tokens_for(customer), tokens_for(customer)

    api_client.post("/auth/logout/", HTTP_AUTHORIZATION=f"Bearer {first.access}")

    assert api_client.post("/auth/validate/", {"token": second.access}).status_code == 200


def test_logout_twice_is_fine_and_logout_without_a_token_is_a_401(api_client, customer, tokens_for):
    pair = tokens_for(customer)
    api_client.post("/auth/logout/", HTTP_AUTHORIZATION=f"Bearer {pair.access}")

    assert (
        api_client.post("/auth/logout/", HTTP_AUTHORIZATION=f"Bearer {pair.access}").status_code
        == 204
    )
    assert api_client.post("/auth/logout/", {}).status_code == 401
    assert api_client.post("/auth/logout/", HTTP_AUTHORIZATION="Bearer garbage").status_code == 401


def test_refresh_rotates_the_pair(api_client, customer, tokens_for):
    pair = tokens_for(customer)

    response = api_client.post("/auth/refresh/", {"refresh": pair.refresh})

    assert response.status_code == 200
    body = response.json()
    assert body["refresh"] != pair.refresh
    assert body["expires_in"] == 300
    assert api_client.post("/auth/validate/", {"token": body["access"]}).status_code == 200


def test_reusing_a_rotated_refresh_token_revokes_the_whole_session(
    api_client, customer, tokens_for
):
    pair = tokens_for(customer)
    rotated = api_client.post("/auth/refresh/", {"refresh": pair.refresh}).json()

    reuse = api_client.post("/auth/refresh/", {"refresh": pair.refresh})

    assert reuse.status_code == 401
    assert reuse.json()["error"]["details"] == {"reason": "refresh_token_reused"}
    assert api_client.post("/auth/validate/", {"token": rotated["access"]}).status_code == 401
    assert api_client.post("/auth/refresh/", {"refresh": rotated["refresh"]}).status_code == 401
    assert LoginSession.objects.get(user=customer).revoked_reason == "refresh_token_reused"


def test_an_access_token_is_not_a_refresh_token(api_client, customer, tokens_for):
    response = api_client.post("/auth/refresh/", {"refresh": tokens_for(customer).access})

    assert response.status_code == 401
    assert error_code(response) == "invalid_token"


@pytest.mark.parametrize("scopes", [None, ["read", "write"]])
def test_the_hand_built_validation_is_what_validate_output_gives(scopes):
    """``ValidatedToken.as_answer`` is built by hand for speed; ``ValidateOutput`` documents it."""
    from datetime import UTC, datetime

    from accounts.apis import ValidateOutput
    from accounts.selectors import ValidatedToken
    from shop_common.renderers import JSONRenderer

    token = ValidatedToken(
        user_id=5,
        email="ann@shop.test",
        username="ann",
        phone_number="+44 20 7946 0000",
        roles=["CUSTOMER", "STAFF"],
        expires_at=datetime(2026, 11, 26, 16, 0, 30, 123456, tzinfo=UTC),
        session_id="5b0c7c1e",
        scopes=scopes,
    )

    render = JSONRenderer().render
    assert render(token.as_answer()) == render(type(ValidateOutput)(token).data)


def test_password_checks_are_counted_ok_failed_and_throttled(api_client, customer, settings):
    from prometheus_client import REGISTRY

    def logins(outcome: str) -> float:
        return REGISTRY.get_sample_value("shop_logins_total", {"outcome": outcome}) or 0

    settings.PASSWORD_FAILURES_PER_ACCOUNT = "2/15m"
    before = {outcome: logins(outcome) for outcome in ("ok", "failed", "throttled")}

    api_client.post("/auth/login/", {"email": customer.email, "password": PASSWORD})
    for _ in range(2):
        api_client.post("/auth/login/", {"email": customer.email, "password": "bad"})
    api_client.post("/auth/login/", {"email": customer.email, "password": PASSWORD})

    assert {outcome: logins(outcome) - before[outcome] for outcome in before} == {
        "ok": 1,
        "failed": 2,
        "throttled": 1,
    }
