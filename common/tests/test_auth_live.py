"""The shared authentication and permission classes against a real user service under the server."""

import secrets
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import jwt
import pytest
from django.core.cache import cache
from django.test import override_settings
from prometheus_client.parser import text_string_to_metric_families

from shop_common.auth import JWT_SHAPE
from shop_common.demo import DEMO_LOGINS
from shop_common.service_tokens import forget_service_tokens, service_token
from shop_common.testing.environment import stack_environment
from shop_common.testing.stack import Stack, free_port
from shop_common.testing.waiting import eventually
from shop_common.topology import SERVICES_BY_NAME

REPO_ROOT = Path(__file__).resolve().parents[2]
# This test project calls and is called as the cart service; the order service is another shop
# service, and "shop-library" an application that is none of the six.
CART_CLIENT = ("shop-cart", "cart-client-secret-".ljust(48, "0"))
ORDER_CLIENT = ("shop-order", "order-client-secret-".ljust(48, "0"))
FOREIGN_CLIENT = ("shop-library", "library-client-secret-".ljust(48, "0"))
# The live user service's /metrics token, and the view its counter names for /o/introspect/.
METRICS = "library-metrics-token"
INTROSPECTION_VIEW = "accounts.oauth.IntrospectTokenView"


def start_user_service(tmp_path_factory, **extra_env: str) -> Stack:
    stack = Stack(
        repo_root=REPO_ROOT,
        workdir=tmp_path_factory.mktemp("user-service"),
        services=(SERVICES_BY_NAME["user"],),
        base_env=stack_environment(METRICS_TOKEN=METRICS, **extra_env),
        schema_prefix="libtest_",
        workers=1,
        demo_data=True,
    )
    stack.start()
    for name, (_, secret) in (
        ("cart", CART_CLIENT),
        ("order", ORDER_CLIENT),
        ("library", FOREIGN_CLIENT),
    ):
        stack.manage("user", "create_service_client", name, "--client-secret", secret)
    return stack


@pytest.fixture(scope="session")
def user_service(tmp_path_factory):
    stack = start_user_service(tmp_path_factory)
    yield stack
    stack.stop()


@pytest.fixture
def live(settings, user_service):
    """This test project, pointed at the live user service."""
    settings.SERVICE_URLS = {**settings.SERVICE_URLS, "user": user_service.url("user")}
    settings.SERVICE_CLIENT_ID, settings.SERVICE_CLIENT_SECRET = CART_CLIENT
    settings.AUTH_CACHE_TTL = 30
    cache.clear()
    forget_service_tokens()
    yield user_service
    cache.clear()
    forget_service_tokens()


def login(stack: Stack, role: str) -> dict:
    email, password = DEMO_LOGINS[role]
    response = httpx.post(
        f"{stack.url('user')}/auth/login/", json={"email": email, "password": password}
    )
    assert response.status_code == 200, response.text
    return response.json()


def bearer(token: str) -> dict:
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}


def test_a_valid_token_makes_the_caller_known_with_roles(live, client):
    tokens = login(live, "STAFF")

    response = client.get("/whoami/", **bearer(tokens["access"]))

    assert response.status_code == 200
    assert response.json() == {
        "id": tokens["user"]["id"],
        "email": "staff@shop.test",
        "roles": ["STAFF"],
    }


def test_no_token_is_a_401_with_www_authenticate(live, client):
    response = client.get("/whoami/")

    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Bearer realm="shop"'
    assert response.json()["error"]["code"] == "not_authenticated"


@pytest.mark.parametrize("header", ["Bearer", "Bearer a b", "Bearer not-a-token"])
def test_a_malformed_or_unknown_token_is_a_401_invalid_token(live, client, header):
    response = client.get("/whoami/", HTTP_AUTHORIZATION=header)

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "invalid_token"


def test_a_refresh_token_is_not_accepted(live, client):
    response = client.get("/whoami/", **bearer(login(live, "CUSTOMER")["refresh"]))

    assert response.status_code == 401


def test_an_expired_token_is_refused(live, client):
    real = jwt.decode(login(live, "CUSTOMER")["access"], options={"verify_signature": False})
    past = datetime.now(tz=UTC) - timedelta(minutes=1)
    expired = jwt.encode(
        {**real, "exp": int(past.timestamp()), "jti": uuid.uuid4().hex},
        live.secrets["JWT_SIGNING_KEY"],
        algorithm="HS256",
    )

    assert client.get("/whoami/", **bearer(expired)).status_code == 401


def test_with_ttl_0_a_logout_is_refused_on_the_next_request(live, client, settings):
    settings.AUTH_CACHE_TTL = 0
    access = login(live, "CUSTOMER")["access"]
    assert client.get("/whoami/", **bearer(access)).status_code == 200

    httpx.post(f"{live.url('user')}/auth/logout/", headers={"Authorization": f"Bearer {access}"})

    assert client.get("/whoami/", **bearer(access)).status_code == 401


def test_a_cached_validation_lasts_the_ttl_and_no_longer(live, client, settings):
    settings.AUTH_CACHE_TTL = 1
    access = login(live, "CUSTOMER")["access"]
    assert client.get("/whoami/", **bearer(access)).status_code == 200
    httpx.post(f"{live.url('user')}/auth/logout/", headers={"Authorization": f"Bearer {access}"})

    # Within the TTL the cached answer stands (the local-memory cache hears nothing of the logout).
    assert client.get("/whoami/", **bearer(access)).status_code == 200
    answer = eventually(
        lambda: client.get("/whoami/", **bearer(access)).status_code,
        lambda status: status != 200,
        timeout=5,
        interval=0.1,
    )
    assert answer == 401, "the revoked token outlived the cache TTL"


def test_a_cached_validation_spares_the_user_service(live, client, settings):
    access = login(live, "CUSTOMER")["access"]
    assert client.get("/whoami/", **bearer(access)).status_code == 200

    settings.SERVICE_URLS = {**settings.SERVICE_URLS, "user": f"http://127.0.0.1:{free_port()}"}

    assert client.get("/whoami/", **bearer(access)).status_code == 200


def test_user_service_down_is_a_503_naming_it_within_two_seconds(live, client, settings):
    access = login(live, "CUSTOMER")["access"]
    settings.SERVICE_URLS = {**settings.SERVICE_URLS, "user": f"http://127.0.0.1:{free_port()}"}
    settings.SERVICE_HTTP_RETRY_BACKOFF = 0

    started = time.monotonic()
    response = client.get("/whoami/", **bearer(access))

    assert time.monotonic() - started < 2
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "dependency_unavailable"
    assert response.json()["error"]["details"]["service"] == "user"


@pytest.mark.parametrize(
    ("role", "status"), [(None, 401), ("CUSTOMER", 403), ("STAFF", 200), ("ADMIN", 200)]
)
def test_has_role_lets_only_the_named_roles_in(live, client, role, status):
    headers = bearer(login(live, role)["access"]) if role else {}

    response = client.get("/staff-only/", **headers)

    assert response.status_code == status


def client_token(stack: Stack, credentials: tuple[str, str], scope: str = "") -> httpx.Response:
    return httpx.post(
        f"{stack.url('user')}/o/token/",
        data={"grant_type": "client_credentials", **({"scope": scope} if scope else {})},
        auth=credentials,
    )


def introspections(stack: Stack) -> int:
    """Introspections the user service has answered, by its own request counter: counted before
    the answer leaves, so a count taken right after a call includes it (a log line may come later)."""
    text = httpx.get(f"{stack.url('user')}/metrics", headers={"Authorization": f"Bearer {METRICS}"})
    text.raise_for_status()
    return int(
        sum(
            sample.value
            for family in text_string_to_metric_families(text.text)
            for sample in family.samples
            if sample.name == "shop_http_requests_total"
            and sample.labels["view"] == INTROSPECTION_VIEW
        )
    )


def test_a_service_token_opens_internal_endpoints(live, client):
    response = client.get("/internal/ping/", **bearer(service_token()))

    assert response.status_code == 200
    assert response.json() == {"client_id": "shop-cart"}


def test_a_service_token_is_signed_and_checked_here_without_an_introspection(live, client):
    token = service_token()
    assert JWT_SHAPE.fullmatch(token)
    assert client.get("/internal/ping/", **bearer(token)).status_code == 200  # keys fetched
    before = introspections(live)

    answers = [client.get("/internal/ping/", **bearer(token)).status_code for _ in range(3)]

    assert answers == [200, 200, 200]
    assert introspections(live) == before


def test_another_shop_service_is_not_a_caller_of_this_endpoint(live, client):
    order_token = client_token(live, ORDER_CLIENT, "internal").json()["access_token"]

    response = client.get("/internal/ping/", **bearer(order_token))

    assert response.status_code == 403
    assert "cart service only" in response.json()["error"]["message"]


def test_an_application_that_is_not_a_shop_service_never_gets_the_internal_scope(live, client):
    asked = client_token(live, FOREIGN_CLIENT, "internal")
    default = client_token(live, FOREIGN_CLIENT)

    assert asked.status_code == 400
    assert asked.json()["error"] == "invalid_scope"
    assert default.status_code == 200
    assert "internal" not in default.json()["scope"].split()
    response = client.get("/internal/ping/", **bearer(default.json()["access_token"]))
    assert response.status_code == 403


def test_the_count_sees_each_introspection(live, client):
    unknown = secrets.token_hex(15)  # the shape of a token, one nobody has shown yet
    before = introspections(live)

    assert client.get("/internal/ping/", **bearer(unknown)).status_code == 401
    assert introspections(live) == before + 1


@pytest.mark.parametrize(
    "junk", ["not-a-token", "a" * 29, "a" * 31, "eyJhbGciOiJIUzI1NiJ9.e30.sig", "x" * 5000]
)
def test_a_token_of_the_wrong_shape_is_a_401_without_asking_the_user_service(live, client, junk):
    service_token()  # this service's own tokens, fetched before counting
    client.get("/internal/ping/", **bearer(service_token()))
    before = introspections(live)

    response = client.get("/internal/ping/", HTTP_AUTHORIZATION=f"Bearer {junk}")

    assert response.status_code == 401
    assert introspections(live) == before


def test_a_refused_token_is_remembered_briefly(live, client):
    client.get("/internal/ping/", **bearer(service_token()))
    unknown = "A" * 30
    assert client.get("/internal/ping/", **bearer(unknown)).status_code == 401
    before = introspections(live)

    answers = {client.get("/internal/ping/", **bearer(unknown)).status_code for _ in range(5)}

    assert answers == {401}
    assert introspections(live) == before


def test_a_user_token_does_not_open_internal_endpoints(live, client):
    response = client.get("/internal/ping/", **bearer(login(live, "ADMIN")["access"]))

    assert response.status_code == 401


def test_a_service_token_without_the_internal_scope_is_forbidden(live, client):
    response = client.get("/internal/ping/", **bearer(service_token(scope="introspection")))

    assert response.status_code == 403


def test_no_token_on_an_internal_endpoint_is_a_401(live, client):
    assert client.get("/internal/ping/").status_code == 401


def test_with_a_shared_redis_a_logout_beats_the_cache(
    tmp_path_factory, client, settings, redis_location
):
    prefix = f"libtest-{uuid.uuid4().hex[:8]}"
    stack = start_user_service(tmp_path_factory, REDIS_URL=redis_location, CACHE_KEY_PREFIX=prefix)
    shared = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": redis_location,
            "KEY_PREFIX": prefix,
        }
    }
    try:
        with override_settings(CACHES=shared):
            settings.SERVICE_URLS = {**settings.SERVICE_URLS, "user": stack.url("user")}
            settings.AUTH_CACHE_TTL = 300
            access = login(stack, "CUSTOMER")["access"]
            assert client.get("/whoami/", **bearer(access)).status_code == 200

            httpx.post(
                f"{stack.url('user')}/auth/logout/", headers={"Authorization": f"Bearer {access}"}
            )

            assert client.get("/whoami/", **bearer(access)).status_code == 401
    finally:
        stack.stop()
