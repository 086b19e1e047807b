"""ALLOWED_HOSTS on every service under the server: a request naming a host the shop does not serve is
a 400 in the error shape, on every path, never a 500, and leaves no ERROR (or traceback) in the logs."""

import uuid

import httpx
import pytest

from shop_common.topology import SERVICES
from tests.e2e.helpers import logged

FOREIGN = {"Host": "evil.example"}

REQUESTS = [
    *((service.name, "GET", "/health/") for service in SERVICES),
    *((service.name, "GET", "/api/schema/") for service in SERVICES),
    ("product", "GET", "/products/"),
    ("user", "POST", "/auth/login/"),
    ("cart", "GET", "/api/cart/"),
]


@pytest.mark.parametrize(
    ("service", "method", "path"), REQUESTS, ids=[f"{s}-{m}-{p}" for s, m, p in REQUESTS]
)
def test_a_foreign_host_is_a_400_in_the_error_shape(stack, service, method, path):
    body = {"email": "customer@shop.test", "password": "x"} if method == "POST" else None

    response = httpx.request(method, f"{stack.url(service)}{path}", headers=FOREIGN, json=body)

    assert response.status_code == 400, response.text
    assert response.headers["content-type"] == "application/json"
    assert response.json() == {
        "error": {
            "code": "disallowed_host",
            "message": "The Host header names a host this service does not serve.",
            "details": {},
        }
    }
    assert response.headers["X-Request-ID"]


def test_the_same_requests_with_the_shops_own_host_are_served(stack):
    assert httpx.get(f"{stack.url('product')}/products/").status_code == 200
    for service in SERVICES:
        assert httpx.get(f"{stack.url(service.name)}/health/").status_code == 200


def test_foreign_hosts_leave_no_error_or_traceback_in_the_logs(stack):
    sent: dict[str, set[str]] = {service.name: set() for service in SERVICES}
    for service, method, path in REQUESTS:
        request_id = uuid.uuid4().hex
        headers = {**FOREIGN, "X-Request-ID": request_id}
        httpx.request(method, f"{stack.url(service)}{path}", headers=headers)
        sent[service].add(request_id)

    for service in SERVICES:
        for record in logged(stack, service.name, sent[service.name]):
            assert record["level"] not in ("ERROR", "CRITICAL"), record
            assert "exception" not in record, record
        for line in (stack.workdir / f"{service.name}.log").read_text().splitlines():
            if "evil.example" in line:
                assert line.startswith("{"), line  # not a JSON log record: a raw traceback
