"""GET /metrics and what the shared library counts (shop_common.metrics)."""

import subprocess
import sys
import textwrap
from pathlib import Path

import httpx
import pytest
import respx
from django.db import connection
from prometheus_client import REGISTRY

from shop_common import metrics
from shop_common.breaker import CircuitBreaker
from shop_common.errors import DependencyUnavailable
from shop_common.service_client import build_service_client

BASE = "http://cart.test"
TOKEN = "a-metrics-token-for-the-tests"


def value(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


@pytest.fixture
def metrics_token(settings):
    settings.METRICS_TOKEN = TOKEN
    return TOKEN


def test_metrics_are_closed_without_a_token_when_debug_is_off(client, settings):
    settings.DEBUG = False
    settings.METRICS_TOKEN = ""

    response = client.get("/metrics")

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "permission_denied"
    assert "METRICS_TOKEN" in response.json()["error"]["message"]


def test_metrics_are_open_without_a_token_in_debug(client, settings):
    settings.DEBUG = True
    settings.METRICS_TOKEN = ""

    assert client.get("/metrics").status_code == 200


@pytest.mark.parametrize(
    "authorization",
    [None, "Bearer wrong-token", f"Basic {TOKEN}", "Bearer", f"Bearer {TOKEN}x"],
)
def test_metrics_refuse_a_missing_or_wrong_token(client, metrics_token, authorization):
    headers = {"Authorization": authorization} if authorization else {}

    response = client.get("/metrics", headers=headers)

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert b"shop_http_requests_total" not in response.content


def test_metrics_with_the_token_are_the_prometheus_text_with_both_path_spellings(
    client, metrics_token
):
    for path in ("/metrics", "/metrics/"):
        response = client.get(path, headers={"Authorization": f"Bearer {TOKEN}"})

        assert response.status_code == 200
        assert response["Content-Type"].startswith("text/plain; version=")
        assert b"# TYPE shop_http_requests_total counter" in response.content


def test_every_answer_is_counted_by_view_method_and_status(client):
    view = "tests.views.DomainErrorView"
    before = value("shop_http_requests_total", view=view, method="GET", status="409")
    timed = value("shop_http_request_duration_seconds_count", view=view, method="GET")

    client.get("/domain-error/")

    assert value("shop_http_requests_total", view=view, method="GET", status="409") == before + 1
    assert value("shop_http_request_duration_seconds_count", view=view, method="GET") == timed + 1


def test_an_unknown_path_is_counted_as_unmatched_not_by_its_path(client):
    before = value("shop_http_requests_total", view="unmatched", method="GET", status="404")

    client.get("/no-such-page-12345/")

    assert (
        value("shop_http_requests_total", view="unmatched", method="GET", status="404")
        == before + 1
    )
    assert b"no-such-page" not in metrics.render()


@pytest.mark.django_db
def test_database_statements_are_counted():
    before = value("shop_db_queries_total", database="default")

    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.execute("SELECT 2")

    assert value("shop_db_queries_total", database="default") == before + 2


def test_breaker_state_and_transitions_are_exported():
    breaker = CircuitBreaker("metrics-dep", failure_threshold=2, reset_timeout=60)
    assert value("shop_dependency_breaker_state", dependency="metrics-dep") == 0

    breaker.failed()
    breaker.failed()

    assert value("shop_dependency_breaker_state", dependency="metrics-dep") == 2
    assert (
        value("shop_dependency_breaker_transitions_total", dependency="metrics-dep", state="open")
        == 1
    )

    breaker.succeeded()

    assert value("shop_dependency_breaker_state", dependency="metrics-dep") == 0


@respx.mock
def test_outbound_calls_are_counted_by_outcome_and_timed(settings):
    settings.SERVICE_URLS = {**settings.SERVICE_URLS, "cart": BASE}
    client = build_service_client("cart", retries=1, retry_backoff=0, breaker_failures=2)
    respx.get(f"{BASE}/ok/").respond(200)
    respx.get(f"{BASE}/gone/").respond(404)
    respx.get(f"{BASE}/down/").mock(side_effect=httpx.ConnectError("refused"))

    def calls(outcome: str) -> float:
        return value(
            "shop_dependency_requests_total", dependency="cart", method="GET", outcome=outcome
        )

    before = {outcome: calls(outcome) for outcome in ("2xx", "4xx", "unreachable", "circuit_open")}
    timed = value("shop_dependency_request_duration_seconds_count", dependency="cart")

    client.get("/ok/")
    client.get("/gone/")
    with pytest.raises(DependencyUnavailable):
        client.get("/down/")  # two attempts: the breaker opens after them
    with pytest.raises(DependencyUnavailable):
        client.get("/ok/")  # refused by the open breaker, no call

    assert calls("2xx") == before["2xx"] + 1
    assert calls("4xx") == before["4xx"] + 1
    assert calls("unreachable") == before["unreachable"] + 2
    assert calls("circuit_open") == before["circuit_open"] + 1
    assert value("shop_dependency_request_duration_seconds_count", dependency="cart") == timed + 4


def test_under_several_processes_the_values_of_each_are_added_up(tmp_path):
    """The server's workers are processes: with PROMETHEUS_MULTIPROC_DIR each writes its own file and
    render() adds them up (the directory is set before prometheus-client is imported)."""
    script = textwrap.dedent(
        """
        import os, sys
        os.environ["DJANGO_SETTINGS_MODULE"] = "tests.settings"
        import django
        django.setup()
        from shop_common import metrics
        metrics.LOGINS.labels("ok").inc(int(sys.argv[1]))
        if sys.argv[1] == "0":
            print(metrics.render().decode())
        """
    )
    env = {"PROMETHEUS_MULTIPROC_DIR": str(tmp_path), "PATH": "/usr/bin:/bin"}
    for increment in ("2", "3", "0"):
        result = subprocess.run(  # noqa: S603 (our own interpreter, a fixed script)
            [sys.executable, "-c", script, increment],
            env=env,
            capture_output=True,
            text=True,
            check=True,
            cwd=Path(__file__).resolve().parent.parent,
        )

    assert 'shop_logins_total{outcome="ok"} 5.0' in result.stdout


def test_an_invented_method_is_counted_as_other(client):
    before = value("shop_http_requests_total", view="unmatched", method="other", status="404")

    client.generic("BREW", "/no-such-page/")

    assert (
        value("shop_http_requests_total", view="unmatched", method="other", status="404")
        == before + 1
    )
