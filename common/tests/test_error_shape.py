"""Every failure, whoever raises it, answers in the one error shape with the right status."""

import json
import logging

import pytest
from django.core.exceptions import DisallowedHost, SuspiciousOperation
from django.test import Client, override_settings

from shop_common.error_handlers import bad_request


def error_of(response):
    body = response.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message", "details"}
    return body["error"]


def test_validation_errors_name_each_field(api_client):
    response = api_client.post("/echo/", {"quantity": 0, "price": "abc"})

    assert response.status_code == 400
    error = error_of(response)
    assert error["code"] == "validation_error"
    assert set(error["details"]) == {"quantity", "price"}


def test_body_that_is_not_json_is_a_400(api_client):
    response = api_client.post("/echo/", data="{not json", content_type="application/json")

    assert response.status_code == 400
    assert error_of(response)["code"] == "malformed_json"


def test_unsupported_content_type_is_a_415(api_client):
    response = api_client.post("/echo/", data="quantity=1", content_type="text/plain")

    assert response.status_code == 415
    assert error_of(response)["code"] == "unsupported_media_type"


def test_domain_error_keeps_its_code_status_and_details(api_client):
    response = api_client.get("/domain-error/")

    assert response.status_code == 409
    error = error_of(response)
    assert error["code"] == "out_of_stock"
    assert error["details"] == {"lines": [{"product_id": 7, "available": 0}]}


def test_resource_not_found_names_the_resource(api_client):
    response = api_client.get("/missing-product/")

    assert response.status_code == 404
    assert error_of(response) == {
        "code": "product_not_found",
        "message": "The product was not found.",
        "details": {"resource": "product", "id": 42},
    }


def test_dependency_down_is_a_503_naming_the_service(api_client):
    response = api_client.get("/dependency-down/")

    assert response.status_code == 503
    error = error_of(response)
    assert error["code"] == "dependency_unavailable"
    assert error["details"] == {"service": "product"}
    assert "product service" in error["message"]


def test_throttled_is_a_429_with_retry_after(api_client):
    response = api_client.get("/throttled/")

    assert response.status_code == 429
    assert response["Retry-After"] == "12"
    assert error_of(response)["code"] == "throttled"


def test_missing_credentials_is_a_401_with_www_authenticate(api_client):
    response = api_client.get("/needs-login/")

    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Bearer realm="api"'
    assert error_of(response)["code"] == "not_authenticated"


def test_http404_raised_in_a_drf_view_is_the_json_404(api_client):
    response = api_client.get("/drf-404/")

    assert response.status_code == 404
    assert error_of(response)["code"] == "not_found"


@pytest.mark.parametrize(
    ("path", "status", "code", "message"),
    [
        ("/drf-404/", 404, "not_found", "Nothing is found at this path."),
        ("/plain-404/", 404, "not_found", "Nothing is found at this path."),
        ("/drf-403/", 403, "permission_denied", "You may not do this."),
        ("/plain-403/", 403, "permission_denied", "You may not do this."),
    ],
)
def test_djangos_404_and_403_are_one_body_wherever_raised(api_client, path, status, code, message):
    response = api_client.get(path)

    assert response.status_code == status
    assert response.json() == {"error": {"code": code, "message": message, "details": {}}}


def test_djangos_validation_error_is_a_400_naming_the_field(api_client):
    response = api_client.get("/validation-error/")

    assert response.status_code == 400
    assert response.json() == {
        "error": {
            "code": "validation_error",
            "message": "The request has invalid fields.",
            "details": {"parent": ["A category cannot be its own ancestor."]},
        }
    }


def test_djangos_validation_error_without_a_field_is_a_non_field_error(api_client):
    response = Client().get("/plain-validation-error/")

    assert response.status_code == 400
    assert error_of(response)["details"] == {"non_field_errors": ["Not like this."]}


@pytest.mark.parametrize("debug", [False, True])
@pytest.mark.parametrize("path", ["/no/such/path/", "/plain-404/"])
def test_not_found_is_json_even_with_debug_on(path, debug):
    with override_settings(DEBUG=debug):
        response = Client().get(path)

    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert error_of(response)["code"] == "not_found"


def test_wrong_method_is_a_405(api_client):
    response = api_client.put("/echo/", {"quantity": 1})

    assert response.status_code == 405
    assert error_of(response)["code"] == "method_not_allowed"


@pytest.mark.parametrize("path", ["/crash/", "/plain-crash/"])
@pytest.mark.parametrize("debug", [False, True])
def test_unexpected_exception_is_a_500_with_request_id_and_nothing_internal(path, debug, caplog):
    client = Client(raise_request_exception=False)
    with override_settings(DEBUG=debug), caplog.at_level(logging.ERROR, logger="shop.errors"):
        response = client.get(path, HTTP_X_REQUEST_ID="req-500")

    assert response.status_code == 500
    assert response["Content-Type"] == "application/json"
    error = error_of(response)
    assert error["code"] == "internal_error"
    assert error["details"] == {"request_id": "req-500"}
    assert b"secret internal detail" not in response.content
    assert b"Traceback" not in response.content
    assert any(record.exc_info for record in caplog.records), "the crash must be logged"


def test_decimals_are_rendered_as_exact_strings_never_floats(api_client):
    response = api_client.post("/echo/", {"quantity": 1, "price": "0.30"})

    assert response.content == b'{"received":{"quantity":1,"price":"0.30"}}'


@pytest.mark.parametrize("path", ["/database-down/", "/plain-database-down/"])
def test_an_unreachable_database_is_a_503_naming_it_not_a_500(path):
    response = Client(raise_request_exception=False).get(path)

    assert response.status_code == 503
    error = error_of(response)
    assert error["code"] == "dependency_unavailable"
    assert error["details"] == {"service": "database"}
    assert b"127.0.0.1" not in response.content


def test_a_domain_error_raised_in_a_plain_django_view_keeps_its_shape():
    response = Client(raise_request_exception=False).get("/plain-domain-error/")

    assert response.status_code == 409
    assert error_of(response)["code"] == "out_of_stock"


@pytest.mark.parametrize(
    ("method", "path"),
    [("get", "/health/"), ("post", "/echo/"), ("get", "/plain-404/"), ("get", "/no/such/path/")],
)
def test_a_host_not_in_allowed_hosts_is_a_400_before_anything_runs(method, path, caplog):
    client = Client(raise_request_exception=False)
    with caplog.at_level(logging.INFO):
        response = getattr(client, method)(
            path, HTTP_HOST="evil.example", HTTP_X_REQUEST_ID="req-host"
        )

    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    assert response["X-Request-ID"] == "req-host"
    assert error_of(response)["code"] == "disallowed_host"
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]


@pytest.mark.parametrize(
    ("path", "code"),
    [
        ("/suspicious/", "bad_request"),
        ("/absolute-uri/", "disallowed_host"),
        ("/plain-suspicious/", "bad_request"),
    ],
)
def test_a_suspicious_operation_raised_in_a_view_is_a_400_not_a_500(path, code, caplog):
    client = Client(raise_request_exception=False)
    with caplog.at_level(logging.INFO):
        response = client.get(path)

    assert response.status_code == 400
    assert error_of(response)["code"] == code
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]


def test_djangos_400_handler_names_a_disallowed_host(rf):
    """handler400: what Django answers for a SuspiciousOperation raised in a middleware."""
    request = rf.get("/")
    host = bad_request(request, DisallowedHost("Invalid HTTP_HOST header"))
    other = bad_request(request, SuspiciousOperation("odd"))

    assert host.status_code == other.status_code == 400
    assert json.loads(host.content)["error"]["code"] == "disallowed_host"
    assert json.loads(other.content)["error"]["code"] == "bad_request"


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.mark.parametrize("path", ["/crash/", "/plain-crash/"])
def test_a_500_is_logged_once_with_its_request_id(path):
    ours, djangos = _Collect(), _Collect()
    logging.getLogger("shop.errors").addHandler(ours)
    logging.getLogger("django.request").addHandler(djangos)
    try:
        Client(raise_request_exception=False).get(path, HTTP_X_REQUEST_ID="req-once")
    finally:
        logging.getLogger("shop.errors").removeHandler(ours)
        logging.getLogger("django.request").removeHandler(djangos)

    assert [record.levelno for record in ours.records] == [logging.ERROR]
    assert ours.records[0].exc_info
    assert ours.records[0].request_id == "req-once"
    assert djangos.records == [], "Django's own 'Internal Server Error' line repeats it"
