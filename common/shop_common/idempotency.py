"""Idempotent requests: the ``Idempotency-Key`` header and the fingerprint of a request body that
tells a retry (the same key and body: the first answer again) from a reused key (another body:
``IdempotencyKeyReused``, a 422): docs/orders.md, "Idempotency", and docs/integration.md."""

import hashlib
import json
from typing import Any

from drf_spectacular.utils import OpenApiParameter
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request

HEADER = "Idempotency-Key"
MAX_KEY_LENGTH = 128

# The header as the OpenAPI documents show it: what idempotency_key reads (blank is no key).
KEY_SCHEMA = {"type": "string", "minLength": 1, "maxLength": MAX_KEY_LENGTH, "pattern": r"\S"}
KEY_HEADER = OpenApiParameter(HEADER, KEY_SCHEMA, location=OpenApiParameter.HEADER, required=False)


def idempotency_key(request: Request) -> str | None:
    """The request's key (None without one); a key over 128 characters is a 400."""
    key = request.headers.get(HEADER, "").strip() or None
    if key and len(key) > MAX_KEY_LENGTH:
        raise ValidationError({HEADER: [f"At most {MAX_KEY_LENGTH} characters."]})
    return key


def fingerprint(value: Any) -> str:
    """A SHA-256 of ``value`` as canonical JSON (sorted keys): equal for equal bodies."""
    return hashlib.sha256(json.dumps(value, sort_keys=True, default=str).encode()).hexdigest()
