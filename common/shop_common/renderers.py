"""The shop's JSON: DRF's renderer, written by orjson (docs/scaling.md, "The edge"). The bytes are
DRF's for every value the shop sends (tests/test_renderers.py); what orjson writes its own way goes
to DRF's encoder. One difference is left: a float with a negative exponent is written 1.5e-7, not
1.5e-07 (the same number; the shop's answers carry no such floats)."""

import decimal
from typing import Any

import orjson
from rest_framework.renderers import JSONRenderer as DrfJSONRenderer
from rest_framework.utils.encoders import JSONEncoder

# Dates and times as DRF writes them (milliseconds, "Z" for UTC), not orjson's RFC 3339; keys that
# are not strings as json.dumps writes them.
_OPTIONS = (
    orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS | orjson.OPT_NON_STR_KEYS
)
# DRF escapes the two line separators JavaScript does not allow in a string; so do we.
_LINE_SEPARATORS = ((b"\xe2\x80\xa8", b"\\u2028"), (b"\xe2\x80\xa9", b"\\u2029"))


class MoneySafeJSONEncoder(JSONEncoder):
    """DRF's encoder turns a bare ``Decimal`` into a float; money must stay exact, so: a string."""

    def default(self, obj: Any) -> Any:
        if isinstance(obj, decimal.Decimal):
            return str(obj)
        return super().default(obj)


_encoder = MoneySafeJSONEncoder()


class JSONRenderer(DrfJSONRenderer):
    encoder_class = MoneySafeJSONEncoder

    def render(
        self,
        data: Any,
        accepted_media_type: str | None = None,
        renderer_context: dict | None = None,
    ) -> bytes:
        if data is None:
            return b""
        if self.get_indent(accepted_media_type, renderer_context or {}) is not None:
            return super().render(data, accepted_media_type, renderer_context)
        try:
            body = orjson.dumps(data, default=_encoder.default, option=_OPTIONS)
        except orjson.JSONEncodeError:
            # What orjson refuses (an integer beyond 64 bits, ...), json.dumps may still write.
            return super().render(data, accepted_media_type, renderer_context)
        for raw, escaped in _LINE_SEPARATORS:
            if raw in body:
                body = body.replace(raw, escaped)
        return body
