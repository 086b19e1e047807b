"""The orjson renderer writes the bytes DRF's renderer writes, value by value."""

import datetime
import decimal
import uuid

import pytest
from django.utils.translation import gettext_lazy
from rest_framework.exceptions import ErrorDetail
from rest_framework.renderers import JSONRenderer as DrfJSONRenderer

from shop_common.renderers import JSONRenderer, MoneySafeJSONEncoder

UTC = datetime.UTC
VALUES = {
    "money": decimal.Decimal("12.30"),
    "exponent": decimal.Decimal("1E+2"),
    "datetime_utc": datetime.datetime(2026, 12, 6, 10, 15, 30, 123456, tzinfo=UTC),
    "datetime_offset": datetime.datetime(
        2026, 12, 6, 10, 15, 30, tzinfo=datetime.timezone(datetime.timedelta(hours=5, minutes=30))
    ),
    "datetime_naive": datetime.datetime(2026, 12, 6, 10, 15, 30, 5000),
    "date": datetime.date(2026, 12, 6),
    "time": datetime.time(10, 15, 30, 250000),
    "timedelta": datetime.timedelta(days=1, seconds=5),
    "uuid": uuid.UUID("12345678-1234-5678-1234-567812345678"),
    "unicode": "Þórr · naïve · 価格 · emoji 🛒",
    "separators": "line\u2028paragraph\u2029end",
    "control": 'quote " backslash \\ tab \t newline \n',
    "error_detail": ErrorDetail("This field is required.", code="required"),
    "lazy": gettext_lazy("Not found."),
    "numbers": [0, -1, 2**53, True, False, None],
    "int_keys": {1: "one", 2: "two"},
    "nested": {"results": [{"id": 1, "price": decimal.Decimal("0.10"), "tags": []}]},
    "bytes": b"raw",
    "empty": {},
}


def drf(data):
    renderer = DrfJSONRenderer()
    renderer.encoder_class = MoneySafeJSONEncoder
    return renderer.render(data, "application/json", {})


@pytest.mark.parametrize("name", VALUES)
def test_each_value_is_written_as_drf_writes_it(name):
    data = {"value": VALUES[name]}

    assert JSONRenderer().render(data, "application/json", {}) == drf(data)


def test_a_whole_page_is_written_as_drf_writes_it():
    assert JSONRenderer().render(VALUES, "application/json", {}) == drf(VALUES)


def test_an_integer_orjson_cannot_write_is_written_by_drf():
    data = {"big": 2**70}

    assert JSONRenderer().render(data, "application/json", {}) == drf(data)


def test_an_indent_asked_for_is_honoured():
    rendered = JSONRenderer().render({"a": 1}, "application/json; indent=2", {})

    assert rendered == b'{\n  "a": 1\n}'
