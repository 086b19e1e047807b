"""Metrics a real Prometheus scrapes and one trace per checkout, on a shop of their own under the
server: every service with METRICS_TOKEN set and tracing on, exporting to an OTLP receiver in
this process (shop_common.testing.otlp). docs/observability.md.
"""

import importlib.util
import math
import secrets
import shutil
import subprocess

import httpx
import pytest

from shop_common.testing.data import ADDRESS
from shop_common.testing.otlp import OtlpReceiver, tree
from shop_common.testing.stack import free_port
from shop_common.testing.waiting import eventually
from shop_common.topology import SERVICES
from tests.e2e.helpers import REPO_ROOT, bearer, logged, running_stack, wait_for_order_status

TOKEN = secrets.token_urlsafe(24)
TRACED = ("integration", "cart", "product", "order", "payment")


def load_monitor_script():
    spec = importlib.util.spec_from_file_location("monitor", REPO_ROOT / "scripts" / "monitor.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def receiver():
    with OtlpReceiver() as running:
        yield running


@pytest.fixture(scope="module")
def shop(tmp_path_factory, receiver):
    with running_stack(
        tmp_path_factory,
        "observed",
        METRICS_TOKEN=TOKEN,
        OTEL_EXPORTER_OTLP_ENDPOINT=receiver.endpoint,
        # The SDK's batch goes out every 5 s by default; the test polls for it.
        OTEL_BSP_SCHEDULE_DELAY="200",
        # What is measured here is what gets counted, not how fast: a loaded machine (five
        # helpers' suites at once) must not turn the checkout into a 503 for its 5 s budget.
        REQUEST_BUDGET_SECONDS="30",
        settings={"SERVICE_HTTP_READ_TIMEOUT": 30.0},
    ) as stack:
        yield stack


@pytest.fixture(scope="module")
def checkout(shop):
    """One checkout through the integration service, paid on the sandbox's page."""
    token = shop.new_customer_token()
    products = httpx.get(
        f"{shop.url('product')}/products/", params={"in_stock": "true", "ordering": "price"}
    ).json()["results"]
    integration = httpx.Client(base_url=shop.url("integration"), headers=bearer(token), timeout=30)
    added = integration.post("/cart/add/", json={"product_id": products[0]["id"], "quantity": 1})
    assert added.status_code in (200, 201), added.text
    response = integration.post("/checkout/", json={"shipping_address": ADDRESS})
    assert response.status_code == 201, response.text
    order, payment = response.json()["order"], response.json()["payment"]
    assert httpx.post(f"{payment['checkout_url']}/pay").status_code == 303
    assert wait_for_order_status(shop, token, order["id"], "PAID")["status"] == "PAID"
    return {"request_id": response.headers["X-Request-ID"], "order": order}


# --- /metrics itself ------------------------------------------------------------------------------


@pytest.mark.parametrize("service", [s.name for s in SERVICES])
def test_metrics_need_the_token_on_every_service(shop, service):
    url = f"{shop.url(service)}/metrics"

    anonymous = httpx.get(url)
    wrong = httpx.get(url, headers=bearer("not-the-metrics-token"))
    right = httpx.get(url, headers=bearer(TOKEN))

    assert (anonymous.status_code, wrong.status_code) == (401, 401)
    assert anonymous.json()["error"]["code"] == "not_authenticated"
    assert right.status_code == 200
    assert "# TYPE shop_http_requests_total counter" in right.text


# --- a real Prometheus --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def prometheus(shop, tmp_path_factory):
    if shutil.which("prometheus") is None:
        pytest.skip(
            "No prometheus: scripts/install-system-deps.sh monitor could not install Debian's "
            "package (make test says why)."
        )
    monitor = load_monitor_script()
    folder = tmp_path_factory.mktemp("prometheus")
    config = monitor.write_config(
        folder, {s.name: shop.url(s.name) for s in SERVICES}, TOKEN, interval="1s"
    )
    listen = f"127.0.0.1:{free_port()}"
    with open(folder / "prometheus.log", "wb") as log:
        process = subprocess.Popen(  # noqa: S603 (Debian's prometheus, fixed arguments)
            monitor.prometheus_command(config, folder / "data", listen=listen),
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    url = f"http://{listen}"
    try:

        def ready() -> bool:
            assert process.poll() is None, (folder / "prometheus.log").read_text()[-2000:]
            try:
                return httpx.get(f"{url}/-/ready").status_code == 200
            except httpx.TransportError:
                return False

        assert eventually(ready, bool, timeout=30), "Prometheus was not ready within 30 s"
        yield url
    finally:
        process.terminate()
        process.wait(timeout=15)


def query(prometheus: str, expression: str) -> list[dict]:
    answer = httpx.get(f"{prometheus}/api/v1/query", params={"query": expression}).json()
    assert answer["status"] == "success", answer
    return answer["data"]["result"]


def wait_for_value(prometheus: str, expression: str, at_least: float, timeout: float = 20) -> float:
    """The value of a one-series ``expression`` once Prometheus has scraped it at ``at_least``."""

    def value() -> float | None:
        result = query(prometheus, expression)
        return float(result[0]["value"][1]) if result else None

    def enough(found: float | None) -> bool:
        return found is not None and found >= at_least

    found = eventually(value, enough, timeout=timeout, interval=0.5)
    assert enough(found), f"{expression} = {found}, wanted >= {at_least}"
    return found


def test_prometheus_scrapes_all_six_services(prometheus):
    for service in SERVICES:
        assert wait_for_value(prometheus, f'up{{job="{service.name}"}}', 1) == 1


# What one paid checkout must leave in the counters, by service (job).
CHECKOUT_COUNTERS = [
    'sum(shop_logins_total{job="user", outcome="ok"})',
    'sum(shop_http_requests_total{job="integration", view="checkout.apis.CheckoutApi", '
    'method="POST", status="201"})',
    'sum(shop_dependency_requests_total{job="integration", dependency="order", outcome="2xx"})',
    'sum(shop_dependency_requests_total{job="order", dependency="product", outcome="2xx"})',
    'sum(shop_stock_reservations_total{job="product", outcome="granted"})',
    'sum(shop_stock_reservations_total{job="product", outcome="committed"})',
    'sum(shop_order_transitions_total{job="order", from_status="PENDING", to_status="PAID"})',
    'sum(shop_payments_total{job="payment", status="SUCCEEDED"})',
    'sum(shop_webhook_events_total{job="payment", provider="stripe", outcome="applied"})',
    'sum(shop_db_queries_total{job="product"})',
    'sum(shop_http_request_duration_seconds_count{job="cart"})',
]


@pytest.mark.parametrize("expression", CHECKOUT_COUNTERS)
def test_prometheus_shows_what_a_checkout_counted(prometheus, checkout, expression):
    assert wait_for_value(prometheus, expression, 1) >= 1


def test_prometheus_shows_breakers_latency_and_reservations(prometheus, checkout):
    wait_for_value(prometheus, 'count(shop_dependency_breaker_state{job="integration"})', 3)
    assert (
        float(
            query(prometheus, 'max(shop_dependency_breaker_state{job="integration"})')[0]["value"][
                1
            ]
        )
        == 0
    )
    wait_for_value(prometheus, 'count(shop_stock_reservations_held{job="product"})', 2)
    p95 = 'histogram_quantile(0.95, sum by (le) (rate(shop_http_request_duration_seconds_bucket{job="integration"}[1m])))'

    def measured(result: list[dict]) -> bool:
        return bool(result) and not math.isnan(float(result[0]["value"][1]))

    result = eventually(lambda: query(prometheus, p95), measured, interval=0.5)
    assert measured(result), f"no p95 latency: {result}"
    assert 0 < float(result[0]["value"][1]) <= 10


def test_prometheus_loaded_the_alerting_rules(prometheus):
    groups = httpx.get(f"{prometheus}/api/v1/rules").json()["data"]["groups"]
    rules = {rule["name"]: rule for group in groups for rule in group["rules"]}

    assert {
        "ShopHighErrorRatio",
        "ShopSlowRequests",
        "ShopCircuitBreakerOpen",
        "ShopWebhookEventsRejected",
        "ShopReservationsOverdue",
        "ShopReservationsExpiringOften",
    } <= set(rules)
    assert all(rule["health"] in ("ok", "unknown") for rule in rules.values()), rules


# --- one checkout, one trace ----------------------------------------------------------------------


def is_checkout_request(span) -> bool:
    return (
        span.service == "integration"
        and span.kind == 2  # SERVER
        and span.attributes.get("http.route", "").startswith("checkout")
    )


@pytest.fixture(scope="module")
def checkout_trace(receiver, checkout):
    """The checkout request's span (in the integration service) and every span of its trace, once
    the five services have exported theirs."""

    def complete(spans) -> bool:
        root = next((s for s in spans if is_checkout_request(s)), None)
        return root is not None and set(TRACED) <= {
            s.service for s in spans if s.trace_id == root.trace_id
        }

    root = next(s for s in receiver.wait_for(complete) if is_checkout_request(s))
    return root, receiver.trace(root.trace_id)


def test_one_checkout_is_one_trace_across_five_services(checkout_trace):
    root, trace = checkout_trace

    assert root.parent_span_id == ""
    ids = {span.span_id for span in trace}
    orphans = [span for span in trace if span is not root and span.parent_span_id not in ids]
    assert orphans == [], "every span hangs under the checkout's"
    assert set(TRACED) <= {s.service for s in trace if s.kind == 2}  # each answered a request
    assert any(s.kind == 3 for s in trace)  # CLIENT: the calls between them
    assert any("db.system" in s.attributes or "db.system.name" in s.attributes for s in trace)
    print_trace(trace)


def test_access_log_lines_carry_the_trace_id(shop, checkout, checkout_trace):
    root, _ = checkout_trace
    lines = [
        entry
        for service in TRACED
        for entry in logged(shop, service, {checkout["request_id"]})
        if entry["logger"] == "shop.access"
    ]

    assert {entry["service"] for entry in lines} == set(TRACED)
    assert {entry.get("trace_id") for entry in lines} == {root.trace_id}


def print_trace(trace) -> None:
    """The trace as an indented tree with durations (shown with pytest -s)."""
    print("\n".join(tree(trace)))
