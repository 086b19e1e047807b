"""The one JSON parser of every service: bounded before work (docs/architecture.md, "Limits").

- the body: at most ``MAX_REQUEST_BODY_BYTES`` bytes are read (413 ``payload_too_large``), also when
  the client sent no Content-Length (chunked);
- the document: at most ``JSON_MAX_DEPTH`` levels of arrays and objects and ``JSON_MAX_ITEMS``
  values in all (400 ``json_too_complex``); Python's decoder gives up on deep nesting with a
  ``RecursionError``, which is the client's fault too, not a 500.
"""

import json
from typing import Any

from django.conf import settings
from rest_framework.exceptions import ParseError
from rest_framework.parsers import BaseParser

from shop_common.errors import JsonTooComplex, PayloadTooLarge
from shop_common.renderers import JSONRenderer


def read_bounded(stream: Any, limit: int) -> bytes:
    """At most ``limit`` bytes of ``stream``; more is a 413."""
    raw = stream.read(limit + 1) if stream is not None else b""
    if len(raw) > limit:
        raise PayloadTooLarge(limit)
    return raw


def check_shape(document: Any, *, max_depth: int, max_items: int) -> None:
    """Walks the parsed document without recursion; raises :class:`JsonTooComplex`."""
    pending = [(document, 1)]
    items = 0
    while pending:
        value, depth = pending.pop()
        if isinstance(value, dict):
            children = value.values()
        elif isinstance(value, list):
            children = value
        else:
            continue
        if depth > max_depth:
            raise JsonTooComplex(
                f"The JSON is nested deeper than {max_depth} levels.",
                details={"max_depth": max_depth},
            )
        items += len(children)
        if items > max_items:
            raise JsonTooComplex(
                f"The JSON has more than {max_items} values.", details={"max_items": max_items}
            )
        pending.extend((child, depth + 1) for child in children)


def parse_json(raw: bytes) -> Any:
    """A bounded JSON document from raw bytes (the request body), or ParseError / JsonTooComplex."""
    max_depth = settings.JSON_MAX_DEPTH
    try:
        document = json.loads(raw)
    except RecursionError:
        raise JsonTooComplex(
            f"The JSON is nested deeper than {max_depth} levels.", details={"max_depth": max_depth}
        ) from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise ParseError(f"JSON parse error - {exc}") from None
    check_shape(document, max_depth=max_depth, max_items=settings.JSON_MAX_ITEMS)
    return document


class JSONParser(BaseParser):
    media_type = "application/json"
    renderer_class = JSONRenderer

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        return parse_json(read_bounded(stream, settings.MAX_REQUEST_BODY_BYTES))
