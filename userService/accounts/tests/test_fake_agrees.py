"""The other services' tests run against FakeUserService (shop_common.testing.fakes). The same token
checks, logins and staff sessions, sent to the fake and to this service's real API, must give the
same statuses, error codes and answer shapes; a rule changed on one side only fails here."""

import base64
from urllib.parse import urlencode

import httpx
import pytest

from accounts.models import Role
from accounts.tests.factories import PASSWORD, UserFactory
from accounts.tests.test_trust_boundaries import shop_service_token
from shop_common.testing.fakes import FakeUserService

pytestmark = pytest.mark.django_db

FAKE_URL = "http://fake-user.test"
EMAIL = "agreeing-staff@shop.test"
FORM = "application/x-www-form-urlencoded"


def shape(response) -> tuple:
    """What a caller can tell from an answer: the status, then the error code or the answer's
    keys (nested ones too)."""
    if response.status_code == 204:
        return (204,)
    body = response.json()
    if "error" in body:
        return response.status_code, body["error"]["code"]
    return response.status_code, keys(body)


def within(fake, real) -> bool:
    """The fake's answer says no more than the real one: the same status and error code, and its
    keys (with their types) among the real one's. A user's details may be fewer in the fake."""
    if isinstance(fake, dict) and isinstance(real, dict):
        return fake.keys() <= real.keys() and all(within(v, real[k]) for k, v in fake.items())
    if isinstance(fake, tuple) and isinstance(real, tuple):
        return len(fake) == len(real) and all(map(within, fake, real))
    return fake == real


def keys(value):
    if isinstance(value, dict):
        return {key: keys(inner) for key, inner in value.items()}
    return type(value).__name__ if value is not None else None


class Real:
    """The real user service, called in-process, with a STAFF user who logs in by password."""

    def __init__(self, api_client) -> None:
        self.api = api_client
        self.user = UserFactory(email=EMAIL, roles=[Role.STAFF])
        self.product = shop_service_token(api_client, "product")
        self.introspector = shop_service_token(api_client, "product", scope="introspection")
        self.order = shop_service_token(api_client, "order")

    def post(self, path: str, body: dict, token: str | None = None):
        auth = {"HTTP_AUTHORIZATION": f"Bearer {token}"} if token else {}
        return self.api.post(path, body, format="json", **auth)

    def form(self, path: str, body: dict, authorization: str):
        return self.api.post(
            path, urlencode(body), content_type=FORM, HTTP_AUTHORIZATION=authorization
        )

    def session(self, method: str, session_id: str):
        call = self.api.get if method == "GET" else self.api.delete
        return call(
            f"/internal/sessions/{session_id}/", HTTP_AUTHORIZATION=f"Bearer {self.product}"
        )

    def user_token(self) -> str:
        return self.post("/auth/login/", {"email": EMAIL, "password": PASSWORD}).json()["access"]

    def client_credentials(self) -> tuple[str, str]:
        return "shop-order", "order-client-secret-0123456789"


class Fake:
    """The fake, at a URL of its own, knowing the same STAFF user."""

    def __init__(self, users: FakeUserService) -> None:
        self.users = users
        users.add_login(EMAIL, PASSWORD, Role.STAFF)
        self.http = httpx.Client(base_url=FAKE_URL)
        self.product = users.service_token("internal", client_id="shop-product")
        self.introspector = users.service_token("introspection", client_id="shop-product")
        self.order = users.service_token("internal", client_id="shop-order")

    def post(self, path: str, body: dict, token: str | None = None):
        auth = {"Authorization": f"Bearer {token}"} if token else {}
        return self.http.post(path, json=body, headers=auth)

    def form(self, path: str, body: dict, authorization: str):
        return self.http.post(
            path,
            content=urlencode(body),
            headers={"Content-Type": FORM, "Authorization": authorization},
        )

    def session(self, method: str, session_id: str):
        return self.http.request(
            method,
            f"/internal/sessions/{session_id}/",
            headers={"Authorization": f"Bearer {self.product}"},
        )

    def user_token(self) -> str:
        return self.users.token_for(Role.STAFF, email=EMAIL)

    def client_credentials(self) -> tuple[str, str]:
        return "shop-order", "any-secret"


@pytest.fixture
def sides(api_client, http_mock) -> tuple[Real, Fake]:
    return Real(api_client), Fake(FakeUserService(http_mock, FAKE_URL))


def both(sides, call) -> tuple:
    """(the fake's answer, the real one's) to ``call(side)``."""
    real, fake = sides
    return call(fake), call(real)


def test_a_token_check_is_answered_alike(sides):
    fake, real = both(
        sides, lambda side: side.post("/auth/validate/", {"token": side.user_token()})
    )
    assert shape(fake) == shape(real)
    assert fake.json()["roles"] == real.json()["roles"] == ["STAFF"]

    for token in ("junk", "eyJhbGciOiJIUzI1NiJ9.eyJzaWQiOiIxIn0.c2lnbmF0dXJl"):
        fake, real = both(
            sides, lambda side, token=token: side.post("/auth/validate/", {"token": token})
        )
        assert shape(fake) == shape(real), token


@pytest.mark.parametrize("asked", ["order", "unknown"])
def test_an_introspection_is_answered_alike(sides, asked):
    def introspect(side):
        token = side.order if asked == "order" else "0" * 30
        return side.form("/o/introspect/", {"token": token}, f"Bearer {side.introspector}")

    fake, real = both(sides, introspect)

    assert shape(fake) == shape(real)
    if asked == "order":
        assert fake.json()["client_id"] == real.json()["client_id"] == "shop-order"
        assert fake.json()["scope"] == real.json()["scope"] == "internal"
    else:
        assert fake.json() == real.json() == {"active": False}


@pytest.mark.parametrize("caller", ["without the scope", "unknown", "none"])
def test_an_introspection_by_anyone_else_is_refused_alike(sides, caller):
    def introspect(side):
        authorization = {
            "without the scope": f"Bearer {side.product}",
            "unknown": f"Bearer {'1' * 30}",
            "none": "",
        }[caller]
        return side.form("/o/introspect/", {"token": side.order}, authorization)

    fake, real = both(sides, introspect)

    # The status only: the real 403 is django-oauth-toolkit's own page, not the error shape.
    assert fake.status_code == real.status_code


def test_a_service_token_is_issued_alike(sides):
    def fetch(side):
        client_id, secret = side.client_credentials()
        basic = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
        body = {"grant_type": "client_credentials", "scope": "internal"}
        return side.form("/o/token/", body, f"Basic {basic}")

    fake, real = both(sides, fetch)

    assert shape(fake) == shape(real)
    assert fake.json()["scope"] == real.json()["scope"] == "internal"


@pytest.mark.parametrize("password", [PASSWORD, "not-the-password"])
def test_a_login_is_answered_alike(sides, password):
    fake, real = both(
        sides, lambda side: side.post("/auth/login/", {"email": EMAIL, "password": password})
    )
    assert within(shape(fake), shape(real))
    if real.status_code == 200:
        assert fake.json()["user"]["roles"] == real.json()["user"]["roles"] == ["STAFF"]


def test_a_staff_session_is_opened_checked_and_ended_alike(sides):
    def opened(side, password=PASSWORD):
        body = {"email": EMAIL, "password": password, "client_address": "203.0.113.9"}
        return side.post("/internal/staff-sessions/", body, side.product)

    fake, real = both(sides, lambda side: opened(side, "not-the-password"))
    assert shape(fake) == shape(real)

    fake, real = both(sides, opened)
    assert within(shape(fake), shape(real))
    ids = {"fake": fake.json()["session_id"], "real": real.json()["session_id"]}

    def session(method):
        return lambda side: side.session(method, ids["fake" if isinstance(side, Fake) else "real"])

    for method in ("GET", "DELETE", "GET"):
        fake, real = both(sides, session(method))
        assert within(shape(fake), shape(real)), method
        if method == "GET":
            assert fake.json()["active"] == real.json()["active"]

    unknown = "00000000-0000-4000-8000-000000000000"
    fake, real = both(sides, lambda side: side.session("GET", unknown))
    assert shape(fake) == shape(real)
