"""The pytest fixtures every service's suite loads (``pytest_plugins =
["shop_common.testing.fixtures"]``): a JSON API client, a clean cache and fresh service clients for
each test, the other services as HTTP-level fakes (:mod:`shop_common.testing.fakes`), and a
shared Redis cache for the tests that need one."""

import uuid

import pytest
import respx
from django.conf import settings
from django.core.cache import caches
from django.test import Client, override_settings
from rest_framework.test import APIClient

from shop_common import cache as shop_cache
from shop_common.service_client import reset_service_clients
from shop_common.service_tokens import forget_service_tokens
from shop_common.signed_tokens import published_keys
from shop_common.testing.fakes import (
    FakeOrderService,
    FakePaymentService,
    FakeProductService,
    FakeUserService,
)
from shop_common.testing.stack import own_redis


@pytest.fixture
def api_client() -> APIClient:
    """A DRF client that sends and expects JSON."""
    client = APIClient()
    client.default_format = "json"
    return client


@pytest.fixture
def role_client(user_service):
    """``role_client("STAFF", user_id=7)``: a new JSON API client with a fresh token of a user with
    those roles (from the fake user service; CUSTOMER when none are named, a new user id when none
    is given); ``role_client(None)``: an anonymous one. The one way a service's tests act as a
    role (the user service, whose tokens are real, has ``client_as(user)``)."""

    def make(*roles: str | None, user_id: int | None = None) -> APIClient:
        client = APIClient()
        client.default_format = "json"
        if roles and roles[0] is None:
            return client
        token = user_service.token_for(*roles, user_id=user_id)
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
        return client

    return make


@pytest.fixture
def customer(role_client) -> APIClient:
    """Customer 41 of the fake user service (a suite with real users defines its own)."""
    return role_client("CUSTOMER", user_id=41)


@pytest.fixture
def staff(role_client) -> APIClient:
    """Staff member 7 of the fake user service."""
    return role_client("STAFF", user_id=7)


@pytest.fixture(autouse=True)
def _empty_cache():
    """Cached validations, catalog and history pages and throttle counts never leak from one test
    to the next (every configured cache: a service may keep one of its own beside the default)."""
    _clear_caches()
    forget_service_tokens()
    published_keys.forget()
    yield
    _clear_caches()


def _clear_caches() -> None:
    for alias in settings.CACHES:
        caches[alias].clear()


@pytest.fixture(autouse=True)
def _fresh_service_clients():
    """A circuit breaker opened by one test's failing fake never fails the next test's calls."""
    reset_service_clients()
    yield
    reset_service_clients()


@pytest.fixture
def http_mock(settings) -> respx.Router:
    """Every outgoing HTTP call of the test goes to a fake (an unmocked call fails the test)."""
    settings.SERVICE_HTTP_RETRY_BACKOFF = 0
    with respx.mock(assert_all_called=False, assert_all_mocked=True) as router:
        yield router


@pytest.fixture
def user_service(http_mock, settings) -> FakeUserService:
    """A fake user service at the configured USER_SERVICE_URL (see FakeUserService)."""
    return FakeUserService(http_mock, settings.SERVICE_URLS["user"])


@pytest.fixture
def order_service(http_mock, settings, user_service) -> FakeOrderService:
    """A fake order service (internal API) at the configured ORDER_SERVICE_URL."""
    return FakeOrderService(http_mock, settings.SERVICE_URLS["order"], user_service)


@pytest.fixture
def payment_service(http_mock, settings, user_service) -> FakePaymentService:
    """A fake payment service (its start of an order's payment) at the configured URL."""
    return FakePaymentService(http_mock, settings.SERVICE_URLS["payment"], user_service)


@pytest.fixture
def product_service(http_mock, settings, user_service) -> FakeProductService:
    """A fake product service at the configured PRODUCT_SERVICE_URL (see FakeProductService)."""
    return FakeProductService(http_mock, settings.SERVICE_URLS["product"], user_service)


def admin_log_in(client: Client, email: str, password: str):
    """Posts the staff admin's login form (shop_common.staff_admin) as a browser would."""
    return client.post("/admin/login/?next=/admin/", {"username": email, "password": password})


@pytest.fixture
def admin_browser_as(client, user_service):
    """``admin_browser_as("STAFF", email, password)``: Django's test client logged into this
    service's staff admin as a person with that role, whose password the fake user service knows."""

    def log_in_as(role: str, email: str, password: str) -> Client:
        user_service.add_login(email, password, role)
        response = admin_log_in(client, email, password)
        assert response.status_code == 302, response.content
        return client

    return log_in_as


@pytest.fixture(scope="session")
def redis_location(tmp_path_factory):
    """A redis-server of the test session's own (skips the test where there is none)."""
    with own_redis(tmp_path_factory.mktemp("redis")) as location:
        yield location


@pytest.fixture
def shared_cache(redis_location):
    """The cache every worker shares, as with REDIS_URL: the session's Redis, under a key prefix of
    the test's own."""
    shop_cache._outage.__init__()
    caches = {
        "default": {
            "BACKEND": "shop_common.cache.ResilientRedisCache",
            "LOCATION": redis_location,
            "KEY_PREFIX": f"test-{uuid.uuid4().hex[:8]}",
        }
    }
    with override_settings(CACHES=caches):
        yield
    shop_cache._outage.__init__()
