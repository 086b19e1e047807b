import contextlib
import socket
import threading
import time
from datetime import timedelta

import httpx
import pytest
import respx
from django.utils import timezone

from shop_common import auth, deadlines
from shop_common.auth import AuthenticatedUser, InvalidToken, ServiceCaller
from shop_common.breaker import CLOSED, HALF_OPEN, OPEN
from shop_common.errors import DependencyUnavailable
from shop_common.service_client import build_service_client, service_client
from tests.views import DeadlineView

BASE = "http://product.test"


@pytest.fixture
def hung_server():
    """A port that accepts connections and never answers: a dependency that hangs, not one that is
    down (which would refuse at once)."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)
    accepted: list[socket.socket] = []
    stopping = threading.Event()

    def accept() -> None:
        while not stopping.is_set():
            try:
                accepted.append(listener.accept()[0])
            except OSError:
                return

    threading.Thread(target=accept, daemon=True).start()
    yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    stopping.set()
    listener.close()
    for connection in accepted:
        connection.close()


@pytest.fixture
def product_client(settings):
    settings.SERVICE_URLS = {**settings.SERVICE_URLS, "product": BASE}
    settings.SERVICE_HTTP_RETRIES = 2
    settings.SERVICE_HTTP_RETRY_BACKOFF = 0
    settings.SERVICE_BREAKER_FAILURES = 3
    settings.SERVICE_BREAKER_RESET_SECONDS = 30
    return service_client("product")


def in_seconds(seconds: float) -> str:
    return deadlines.format_deadline(time.time() + seconds)


# The inbound side: the middleware.


@pytest.fixture
def view_calls():
    DeadlineView.calls.clear()
    return DeadlineView.calls


def test_a_request_gets_the_configured_budget(client, settings, view_calls):
    settings.REQUEST_BUDGET_SECONDS = 3

    answer = client.get("/deadline/").json()

    assert 2.5 < answer["time_left"] <= 3
    assert deadlines.current_deadline() is None  # unbound after the request


@pytest.fixture
def service_callers(monkeypatch):
    """Service tokens without a user service: ``cart-token`` is the cart service's,
    ``app-token`` an outside application's client-credentials token."""
    callers = {
        "cart-token": ServiceCaller(client_id="shop-cart", scopes=frozenset({"internal"})),
        "app-token": ServiceCaller(client_id="partner-app", scopes=frozenset({"internal"})),
    }

    def introspect(token: str) -> ServiceCaller:
        if token not in callers:
            raise InvalidToken()
        return callers[token]

    monkeypatch.setattr(auth, "verify_service_token", introspect)
    return callers


def from_cart(client, deadline: str | None = None, *, token: str = "cart-token"):  # noqa: S107 (a test double)
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    if deadline is not None:
        headers["HTTP_X_REQUEST_DEADLINE"] = deadline
    return client.get("/internal/deadline/", **headers)


def test_an_earlier_deadline_from_a_shop_service_wins(
    client, settings, view_calls, service_callers
):
    settings.REQUEST_BUDGET_SECONDS = 5

    answer = from_cart(client, in_seconds(1)).json()

    assert 0.5 < answer["time_left"] <= 1
    assert deadlines.current_deadline() is None  # unbound after the request


def test_a_later_deadline_from_a_shop_service_does_not_extend_the_budget(
    client, settings, view_calls, service_callers
):
    settings.REQUEST_BUDGET_SECONDS = 2

    answer = from_cart(client, in_seconds(60)).json()

    assert answer["time_left"] <= 2


@pytest.mark.parametrize("junk", ["soon", "2026-11-26T10:00:00", "1732615200", "x" * 200])
def test_a_malformed_deadline_is_ignored_not_refused(
    client, settings, view_calls, service_callers, junk
):
    settings.REQUEST_BUDGET_SECONDS = 2

    response = from_cart(client, junk)

    assert response.status_code == 200
    assert 1.5 < response.json()["time_left"] <= 2


def test_a_shop_services_spent_deadline_is_refused_before_the_view_runs(
    client, view_calls, service_callers
):
    response = from_cart(client, in_seconds(-0.5))

    assert response.status_code == 503
    error = response.json()["error"]
    assert error["code"] == "deadline_exceeded"
    assert error["details"]["late_by_ms"] >= 500
    assert response.headers["X-Request-ID"]
    assert view_calls == []


# Anyone else's X-Request-Deadline is ignored: a spent one would be a 5xx the alert on server
# errors counts, and an earlier one would cut the budget the service gives its own work.


def test_an_anonymous_callers_spent_deadline_is_ignored(client, settings, view_calls):
    settings.REQUEST_BUDGET_SECONDS = 3

    response = client.get("/deadline/", HTTP_X_REQUEST_DEADLINE=in_seconds(-10))

    assert response.status_code == 200
    assert 2.5 < response.json()["time_left"] <= 3
    assert len(view_calls) == 1


def test_an_anonymous_callers_earlier_deadline_does_not_cut_the_budget(
    client, settings, view_calls
):
    settings.REQUEST_BUDGET_SECONDS = 3

    answer = client.get("/deadline/", HTTP_X_REQUEST_DEADLINE=in_seconds(0.2)).json()

    assert 2.5 < answer["time_left"] <= 3


def test_a_customers_spent_deadline_is_ignored(client, settings, a_customer):
    settings.REQUEST_BUDGET_SECONDS = 3

    response = as_customer(client, in_seconds(-10))

    assert response.status_code == 200, response.content


def test_an_outside_applications_spent_deadline_is_ignored(
    client, settings, view_calls, service_callers
):
    # A client-credentials token that is not one of the shop's services (here refused by the
    # endpoint anyway): its deadline neither refuses the request nor cuts its budget.
    response = from_cart(client, in_seconds(-10), token="app-token")

    assert response.status_code == 403
    assert response.json()["error"]["code"] != "deadline_exceeded"


def test_a_spent_deadline_is_ignored_without_a_token_on_an_internal_endpoint(
    client, view_calls, service_callers
):
    response = client.get("/internal/deadline/", HTTP_X_REQUEST_DEADLINE=in_seconds(-10))

    assert response.status_code == 401


def test_a_budget_of_zero_means_only_the_callers_deadline(client, settings, view_calls):
    settings.REQUEST_BUDGET_SECONDS = 0

    assert client.get("/deadline/").json()["deadline"] is None


def test_the_header_round_trips():
    moment = time.time() + 2.5

    assert abs(deadlines.parse_deadline(deadlines.format_deadline(moment)) - moment) < 0.001
    assert deadlines.format_deadline(0) == "1970-01-01T00:00:00.000Z"


# The outbound side: the service client.


@respx.mock
def test_calls_carry_the_deadline_and_their_timeouts_fit_in_it(product_client, settings):
    settings.DEADLINE_HOP_MARGIN_SECONDS = 0.3
    route = respx.get(f"{BASE}/products/").respond(200, json={})

    with deadlines.budget(1.5) as deadline:
        product_client.get("/products/")

    sent = route.calls.last.request
    # The service called gets the deadline less the hop margin, so it gives up (and names what
    # it waited for) before this one does.
    assert sent.headers["X-Request-Deadline"] == deadlines.format_deadline(deadline - 0.3)
    timeouts = sent.extensions["timeout"]
    assert timeouts["read"] <= 1.5
    assert timeouts["connect"] <= 1.5


@respx.mock
def test_without_a_budget_calls_keep_their_own_timeouts_and_send_no_deadline(product_client):
    route = respx.get(f"{BASE}/products/").respond(200, json={})

    product_client.get("/products/")

    assert "X-Request-Deadline" not in route.calls.last.request.headers
    assert route.calls.last.request.extensions["timeout"]["read"] == 5.0


@respx.mock
def test_no_time_left_is_a_503_without_a_call(product_client):
    route = respx.get(f"{BASE}/products/").respond(200, json={})

    with (
        deadlines.budget(None, deadline=time.time() - 0.1),
        pytest.raises(DependencyUnavailable) as raised,
    ):
        product_client.get("/products/")

    assert route.call_count == 0
    assert raised.value.details == {"service": "product", "reason": "deadline"}


@respx.mock
def test_retries_stop_when_the_budget_leaves_no_time_for_the_pause(product_client, settings):
    settings.SERVICE_HTTP_RETRY_BACKOFF = 1.0
    client = service_client("product")
    route = respx.get(f"{BASE}/products/").mock(side_effect=httpx.ConnectError("refused"))

    started = time.monotonic()
    with deadlines.budget(0.5), pytest.raises(DependencyUnavailable) as raised:
        client.get("/products/")

    assert time.monotonic() - started < 0.2
    assert route.call_count == 1
    assert raised.value.details["reason"] == "deadline"


def test_a_hung_dependency_is_a_503_naming_it_within_the_budget(settings, hung_server):
    settings.SERVICE_URLS = {**settings.SERVICE_URLS, "product": hung_server}
    settings.SERVICE_HTTP_RETRIES = 2
    settings.SERVICE_HTTP_READ_TIMEOUT = 5.0

    started = time.monotonic()
    with deadlines.budget(1.0), pytest.raises(DependencyUnavailable) as raised:
        service_client("product").get("/products/")
    elapsed = time.monotonic() - started

    # Without the budget: 5 s read timeout x 3 attempts.
    assert 0.9 < elapsed < 1.3
    assert raised.value.status_code == 503
    assert raised.value.details["service"] == "product"
    assert "product service" in raised.value.message


# The circuit breaker.


@respx.mock
def test_the_breaker_opens_after_the_threshold_and_then_fails_fast(product_client):
    route = respx.get(f"{BASE}/products/").mock(side_effect=httpx.ConnectError("refused"))

    with pytest.raises(DependencyUnavailable):
        product_client.get("/products/")  # three attempts: three failures in a row
    assert product_client.breaker.state == OPEN

    started = time.perf_counter()
    with pytest.raises(DependencyUnavailable) as raised:
        product_client.get("/products/")

    assert time.perf_counter() - started < 0.05
    assert route.call_count == 3
    assert raised.value.status_code == 503
    assert raised.value.details == {"service": "product", "reason": "circuit_open"}


def test_against_a_hung_dependency_the_open_breaker_answers_in_milliseconds(settings, hung_server):
    settings.SERVICE_URLS = {**settings.SERVICE_URLS, "product": hung_server}
    settings.SERVICE_HTTP_READ_TIMEOUT = 0.1
    settings.SERVICE_HTTP_RETRIES = 0
    settings.SERVICE_HTTP_RETRY_BACKOFF = 0
    settings.SERVICE_BREAKER_FAILURES = 2
    client = service_client("product")
    for _ in range(2):
        with pytest.raises(DependencyUnavailable):
            client.get("/products/")

    started = time.perf_counter()
    with pytest.raises(DependencyUnavailable) as raised:
        client.get("/products/")

    assert time.perf_counter() - started < 0.05
    assert raised.value.details["reason"] == "circuit_open"


@respx.mock
def test_http_error_answers_do_not_open_the_breaker(product_client):
    respx.get(f"{BASE}/products/").mock(
        side_effect=[httpx.Response(404), httpx.Response(409), httpx.Response(500)] * 2
    )

    statuses = [product_client.get("/products/").status_code for _ in range(6)]

    assert statuses == [404, 409, 500] * 2
    assert product_client.breaker.state == CLOSED


@respx.mock
def test_a_success_resets_the_count_of_failures_in_a_row(product_client, settings):
    settings.SERVICE_HTTP_RETRIES = 0
    client = service_client("product")
    respx.get(f"{BASE}/products/").mock(
        side_effect=[httpx.ConnectError("x"), httpx.ConnectError("x"), httpx.Response(200)]
        + [httpx.ConnectError("x")] * 2
    )

    for _ in range(5):
        with contextlib.suppress(DependencyUnavailable):
            client.get("/products/")

    assert client.breaker.state == CLOSED


@pytest.fixture
def clock(monkeypatch):
    """The breakers' clock, moved by the test: ``clock.advance(seconds)``."""
    from shop_common import breaker

    class Clock:
        now = 1000.0

        def advance(self, seconds: float) -> None:
            self.now += seconds

    fake = Clock()
    monkeypatch.setattr(breaker, "_now", lambda: fake.now)
    return fake


@respx.mock
def test_after_the_reset_timeout_one_trial_call_closes_or_reopens_it(settings, clock):
    settings.SERVICE_URLS = {**settings.SERVICE_URLS, "product": BASE}
    client = build_service_client(
        "product", retries=0, retry_backoff=0, breaker_failures=1, breaker_reset=5
    )
    route = respx.get(f"{BASE}/products/").mock(
        side_effect=[httpx.ConnectError("x"), httpx.ConnectError("x"), httpx.Response(200)]
    )
    with pytest.raises(DependencyUnavailable):
        client.get("/products/")
    assert client.breaker.state == OPEN

    clock.advance(5)
    assert client.breaker.state == HALF_OPEN
    with pytest.raises(DependencyUnavailable):
        client.get("/products/")  # the trial fails: open again, for another reset timeout
    assert client.breaker.state == OPEN
    with pytest.raises(DependencyUnavailable) as raised:
        client.get("/products/")
    assert raised.value.details["reason"] == "circuit_open"

    clock.advance(5)
    assert client.get("/products/").status_code == 200
    assert client.breaker.state == CLOSED
    assert route.call_count == 3


def test_half_open_lets_one_trial_through_at_a_time(settings, clock):
    breaker = build_service_client("product", breaker_failures=1, breaker_reset=5).breaker
    breaker.failed()
    clock.advance(5)

    assert breaker.allow() is True
    assert breaker.allow() is False  # the trial is still out
    breaker.succeeded()
    assert breaker.allow() is True


@respx.mock
def test_each_state_change_is_logged_once(product_client, caplog):
    respx.get(f"{BASE}/products/").mock(side_effect=httpx.ConnectError("refused"))

    for _ in range(3):
        with pytest.raises(DependencyUnavailable):
            product_client.get("/products/")

    changes = [record for record in caplog.records if record.name == "shop.breaker"]
    assert [record.breaker_state for record in changes] == [OPEN]
    assert changes[0].dependency == "product"
    assert "product service" in changes[0].getMessage()


@respx.mock
@pytest.mark.django_db
def test_health_lists_the_breakers_and_stays_200(client, product_client):
    respx.get(f"{BASE}/products/").mock(side_effect=httpx.ConnectError("refused"))
    with pytest.raises(DependencyUnavailable):
        product_client.get("/products/")

    response = client.get("/health/")

    assert response.status_code == 200
    assert response.json()["breakers"] == {"product": {"state": "open", "failures": 3}}


# A shop service calling on a person's behalf (the integration service, with the customer's
# token) proves itself with its own signed token in X-Shop-Service-Token: its deadline counts.


@pytest.fixture
def a_customer(monkeypatch):
    customer = AuthenticatedUser(
        id=7,
        email="c@example.com",
        username="c",
        roles=frozenset({"CUSTOMER"}),
        expires_at=timezone.now() + timedelta(minutes=5),
    )
    monkeypatch.setattr(auth, "validate_with_user_service", lambda token: customer)
    return customer


def as_customer(client, deadline: str, **headers):
    return client.get(
        "/whoami/",
        HTTP_AUTHORIZATION="Bearer customer-token",
        HTTP_X_REQUEST_DEADLINE=deadline,
        **headers,
    )


def test_a_spent_deadline_sent_on_a_customers_behalf_by_a_shop_service_is_refused(
    client, a_customer, user_service
):
    service = user_service.service_token(client_id="shop-integration")

    response = as_customer(client, in_seconds(-1), HTTP_X_SHOP_SERVICE_TOKEN=service)

    assert response.status_code == 503
    assert response.json()["error"]["code"] == "deadline_exceeded"


def test_the_earlier_deadline_of_a_shop_service_on_a_customers_behalf_is_taken(
    client, settings, a_customer, user_service
):
    settings.REQUEST_BUDGET_SECONDS = 60
    service = user_service.service_token(client_id="shop-integration")
    headers = {
        "HTTP_AUTHORIZATION": "Bearer customer-token",
        "HTTP_X_REQUEST_DEADLINE": in_seconds(20),
    }

    taken = client.get("/customer-deadline/", HTTP_X_SHOP_SERVICE_TOKEN=service, **headers)
    ignored = client.get("/customer-deadline/", **headers)

    # Wide bounds: a loaded machine may take seconds between the header and the answer.
    assert 10 < taken.json()["time_left"] <= 20
    assert ignored.json()["time_left"] > 40
    assert deadlines.current_deadline() is None


@pytest.mark.parametrize(
    "proof",
    [
        pytest.param("not-a-token", id="junk"),
        pytest.param("eyJhbGciOiJFZERTQSJ9.eyJhIjoiYiJ9.c2lnbmF0dXJl", id="forged"),
        pytest.param("partner", id="an outside application's token"),
    ],
)
def test_without_a_valid_shop_service_token_beside_it_the_deadline_is_ignored(
    client, a_customer, user_service, proof
):
    if proof == "partner":
        proof = user_service.service_token(client_id="partner-app")

    response = as_customer(client, in_seconds(-1), HTTP_X_SHOP_SERVICE_TOKEN=proof)

    assert response.status_code == 200, response.content
    assert user_service.introspect.call_count == 0
