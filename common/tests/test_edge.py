"""The edge (shop_common.edge) and the services' WSGI handler (shop_common.wsgi): a path is resolved
once, what only browsers need runs only for pages, HTML pages cannot be framed, and an answer in
memory leaves as one body."""

import json
import time
from unittest import mock

import pytest
from django.core.signals import request_finished
from django.http import HttpResponse
from django.test import RequestFactory, override_settings
from django.urls import get_resolver
from django.urls.resolvers import URLResolver
from prometheus_client import REGISTRY

from shop_common import deadlines, edge
from shop_common.wsgi import DRAIN_MAX_BYTES, ShopWSGIHandler


@pytest.fixture
def handler(db) -> ShopWSGIHandler:
    # db: the handler gives the database connections back when a request finishes, as in production.
    edge.route.cache_clear()
    return ShopWSGIHandler()


@pytest.fixture
def resolutions():
    """The calls that resolve a whole path (the root resolver's; included ones nest inside)."""
    calls = []
    original = URLResolver.resolve

    def counted(resolver, path):
        if resolver is get_resolver():
            calls.append(path)
        return original(resolver, path)

    with mock.patch.object(URLResolver, "resolve", counted):
        yield calls


def call(handler: ShopWSGIHandler, method: str, path: str, body: dict | None = None):
    data = json.dumps(body).encode() if body is not None else b""
    environ = RequestFactory().generic(method, path, data, "application/json").environ
    answer: dict = {}

    def start_response(status: str, headers: list, exc_info=None) -> None:
        answer["status"] = int(status.split()[0])
        answer["headers"] = dict(headers)

    answer["body"] = handler(environ, start_response)
    return answer


def test_a_path_is_resolved_once_and_a_known_one_not_again(handler, resolutions):
    first = call(handler, "POST", "/echo/", {"quantity": 2, "price": "1.10"})
    again = call(handler, "POST", "/echo/", {"quantity": 3, "price": "1.10"})

    assert first["status"] == again["status"] == 200
    assert json.loads(again["body"][0]) == {"received": {"quantity": 3, "price": "1.10"}}
    assert resolutions == ["/echo/"]


def test_the_other_spelling_is_routed_without_a_second_resolution_of_the_route(
    handler, resolutions
):
    answer = call(handler, "POST", "/echo", {"quantity": 2, "price": "1.10"})
    call(handler, "POST", "/echo", {"quantity": 2, "price": "1.10"})

    assert answer["status"] == 200
    assert json.loads(answer["body"][0]) == {"received": {"quantity": 2, "price": "1.10"}}
    # The spelling asked for, which is not routed, then the one that is; Django resolves neither.
    assert resolutions == ["/echo", "/echo/"]


def test_an_unknown_path_is_a_json_404_in_either_spelling(handler):
    answer = call(handler, "GET", "/nothing")

    assert answer["status"] == 404
    assert json.loads(answer["body"][0])["error"]["details"] == {"path": "/nothing"}


def test_an_answer_in_memory_leaves_as_one_body_after_request_finished(handler):
    finished = []
    request_finished.connect(receiver := lambda **kwargs: finished.append(True))
    try:
        answer = call(handler, "POST", "/echo/", {"quantity": 2, "price": "1.10"})
    finally:
        request_finished.disconnect(receiver)

    assert isinstance(answer["body"], list)
    assert len(answer["body"]) == 1
    assert finished == [True]


@pytest.mark.parametrize(
    ("path", "status", "left"),
    [("/needs-login/", 401, b""), ("/echo/", 200, b"")],
)
def test_a_request_body_is_read_whole_whether_or_not_the_view_read_it(handler, path, status, left):
    """The server closes a connection whose request body was left unread (tests/e2e/test_server.py)."""
    body = json.dumps({"quantity": 2, "price": "1.10"}).encode()
    environ = RequestFactory().generic("POST", path, body, "application/json").environ
    stream = environ["wsgi.input"]

    handler(environ, lambda status, headers, exc_info=None: None)

    assert stream.read() == left


def test_a_large_body_the_view_did_not_read_is_left_unread(handler):
    body = b"x" * (DRAIN_MAX_BYTES + 1)
    environ = RequestFactory().generic("POST", "/needs-login/", body, "text/plain").environ

    handler(environ, lambda status, headers, exc_info=None: None)

    assert environ["wsgi.input"].read() == body


def test_a_body_over_the_limit_is_left_unread(handler, settings):
    settings.MAX_REQUEST_BODY_BYTES = 10
    body = b"x" * 11
    environ = RequestFactory().generic("POST", "/needs-login/", body, "text/plain").environ
    statuses = []

    handler(environ, lambda status, headers, exc_info=None: statuses.append(status))

    assert statuses[0].startswith("413")
    assert environ["wsgi.input"].read() == body


def test_page_middleware_passes_api_routes_by():
    page = RequestFactory().get("/admin/")
    page.shop_page = True
    api = RequestFactory().get("/products/")
    api.shop_page = False
    middleware = edge.PageSessionMiddleware(lambda request: HttpResponse())

    middleware(page)
    middleware(api)

    assert hasattr(page, "session")
    assert not hasattr(api, "session")


@override_settings(CORS_ALLOWED_ORIGINS=["https://shop.example"])
def test_cors_answers_requests_with_an_origin_and_varies_on_it(client):
    cross = client.get("/pages/", HTTP_ORIGIN="https://shop.example")
    plain = client.get("/pages/")

    assert cross["Access-Control-Allow-Origin"] == "https://shop.example"
    assert "Access-Control-Allow-Origin" not in plain
    assert "origin" in plain["Vary"].lower()


def test_html_pages_cannot_be_framed_and_json_needs_no_frame_header(client):
    page = client.get("/api/docs/")
    data = client.get("/pages/")

    assert page["Content-Type"].startswith("text/html")
    assert page["X-Frame-Options"] == "DENY"
    assert "X-Frame-Options" not in data


def test_static_files_are_served_and_a_missing_one_is_a_json_404(client):
    css = client.get("/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui.css")
    missing = client.get("/static/no-such-file.css")

    assert css.status_code == 200
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "not_found"


def test_an_outsiders_spent_deadline_is_served_and_counts_no_server_error(handler):
    # An anonymous X-Request-Deadline in the past was a 503 the alert on server errors counts:
    # anyone could raise it. Only a shop service's deadline counts (test_deadlines.py).
    labels = {"view": "tests.views.DeadlineView", "method": "GET", "status": "503"}
    before = REGISTRY.get_sample_value("shop_http_requests_total", labels) or 0.0
    past = deadlines.format_deadline(time.time() - 60)

    environ = RequestFactory().get("/deadline/", HTTP_X_REQUEST_DEADLINE=past).environ
    statuses = []
    body = handler(environ, lambda status, headers, exc_info=None: statuses.append(status))

    assert statuses == ["200 OK"], body
    assert (REGISTRY.get_sample_value("shop_http_requests_total", labels) or 0.0) == before
