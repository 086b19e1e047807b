"""Limits enforced before work: body size (413), JSON depth and size (400), on every path."""

import io
import json

import pytest
from django.test import Client

from shop_common.errors import JsonTooComplex, PayloadTooLarge
from shop_common.parsers import JSONParser


def error_of(response) -> dict:
    return response.json()["error"]


def nested(depth: int) -> str:
    return "[" * depth + "]" * depth


def test_a_body_over_the_limit_is_a_413_before_anyone_reads_it(api_client, settings):
    settings.MAX_REQUEST_BODY_BYTES = 1000
    body = json.dumps({"name": "x" * 2000})

    response = api_client.post("/echo/", data=body, content_type="application/json")

    assert response.status_code == 413
    assert error_of(response)["code"] == "payload_too_large"
    assert error_of(response)["details"] == {"max_bytes": 1000}


def test_the_limit_holds_on_paths_outside_drf_too(settings):
    settings.MAX_REQUEST_BODY_BYTES = 1000

    response = Client().post("/plain-crash/", data="x" * 5000, content_type="text/plain")

    assert response.status_code == 413


def test_a_ten_megabyte_body_at_the_default_limit_is_a_413(api_client):
    body = b"[" + b"1," * (5 * 1024 * 1024) + b"1]"

    response = api_client.post("/echo/", data=body, content_type="application/json")

    assert response.status_code == 413


def test_the_parser_bounds_a_body_without_content_length(settings):
    settings.MAX_REQUEST_BODY_BYTES = 100

    with pytest.raises(PayloadTooLarge):
        JSONParser().parse(io.BytesIO(b'{"a": "' + b"x" * 200 + b'"}'))


@pytest.mark.parametrize("depth", [33, 1000, 100_000])
def test_json_nested_too_deep_is_a_400(api_client, depth):
    response = api_client.post("/echo/", data=nested(depth), content_type="application/json")

    assert response.status_code == 400
    assert error_of(response)["code"] == "json_too_complex"


def test_json_at_the_depth_limit_is_parsed(api_client):
    body = {"quantity": 1, "price": "1.00", "deep": json.loads(nested(31))}  # 32 levels in all

    response = api_client.post("/echo/", data=json.dumps(body), content_type="application/json")

    assert response.status_code == 200


def test_json_with_too_many_values_is_a_400(settings):
    settings.JSON_MAX_ITEMS = 100

    with pytest.raises(JsonTooComplex):
        JSONParser().parse(io.BytesIO(json.dumps(list(range(101))).encode()))


def test_malformed_json_stays_a_400_malformed_json(api_client):
    response = api_client.post("/echo/", data=b"{nope", content_type="application/json")

    assert error_of(response)["code"] == "malformed_json"
