import httpx
import pytest
import respx

from shop_common.errors import DependencyUnavailable
from shop_common.request_id import _current
from shop_common.service_client import build_service_client, service_client
from shop_common.testing.stack import free_port

BASE = "http://product.test"


@pytest.fixture
def product_client(settings):
    settings.SERVICE_URLS = {**settings.SERVICE_URLS, "product": BASE}
    settings.SERVICE_HTTP_RETRIES = 2
    settings.SERVICE_HTTP_RETRY_BACKOFF = 0
    return service_client("product")


@pytest.fixture
def bound_request_id():
    token = _current.set("req-abc")
    yield "req-abc"
    _current.reset(token)


@respx.mock
def test_base_url_comes_from_settings_and_request_id_is_forwarded(product_client, bound_request_id):
    route = respx.get(f"{BASE}/products/").respond(200, json={"count": 0})

    response = product_client.get("/products/")

    assert response.json() == {"count": 0}
    assert route.calls.last.request.headers["X-Request-ID"] == "req-abc"


@respx.mock
def test_idempotent_get_is_retried_a_bounded_number_of_times_then_503(product_client):
    route = respx.get(f"{BASE}/products/").mock(side_effect=httpx.ConnectError("refused"))

    with pytest.raises(DependencyUnavailable) as raised:
        product_client.get("/products/")

    assert route.call_count == 3
    assert raised.value.status_code == 503
    assert raised.value.details == {"service": "product", "reason": "unreachable"}


@respx.mock
def test_get_that_fails_once_succeeds_on_retry(product_client):
    route = respx.get(f"{BASE}/products/1/").mock(
        side_effect=[httpx.ConnectError("refused"), httpx.Response(200, json={"id": 1})]
    )

    assert product_client.get("/products/1/").json() == {"id": 1}
    assert route.call_count == 2


@respx.mock
def test_post_is_not_retried(product_client):
    route = respx.post(f"{BASE}/orders/").mock(side_effect=httpx.ReadTimeout("slow"))

    with pytest.raises(DependencyUnavailable) as raised:
        product_client.post("/orders/", json={})

    assert route.call_count == 1
    assert raised.value.details["reason"] == "timeout"


@respx.mock
def test_post_declared_idempotent_is_retried(product_client):
    route = respx.post(f"{BASE}/internal/stock/reserve/").mock(
        side_effect=[httpx.ConnectTimeout("slow"), httpx.Response(200, json={"ok": True})]
    )

    response = product_client.post("/internal/stock/reserve/", json={}, idempotent=True)

    assert response.status_code == 200
    assert route.call_count == 2


@respx.mock
def test_http_error_answers_are_returned_not_retried(product_client):
    route = respx.get(f"{BASE}/products/9/").respond(
        404, json={"error": {"code": "product_not_found", "message": "", "details": {}}}
    )

    response = product_client.get("/products/9/")

    assert response.status_code == 404
    assert route.call_count == 1


def test_timeouts_come_from_settings(settings):
    settings.SERVICE_HTTP_CONNECT_TIMEOUT = 0.5
    settings.SERVICE_HTTP_READ_TIMEOUT = 4.0

    timeout = build_service_client("cart")._http.timeout

    assert (timeout.connect, timeout.read) == (0.5, 4.0)


def test_a_port_nobody_listens_on_gives_503_naming_the_service(settings):
    settings.SERVICE_URLS = {**settings.SERVICE_URLS, "user": f"http://127.0.0.1:{free_port()}"}
    settings.SERVICE_HTTP_RETRY_BACKOFF = 0

    with pytest.raises(DependencyUnavailable) as raised:
        service_client("user").get("/health/")

    assert raised.value.details["service"] == "user"
    assert "user service" in raised.value.message
