import re

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator

# RFC 3986's characters and percent-escapes (the OpenAPI "uri" format the answers declare), less
# the single quote: nothing in a stored URL can close the HTML attribute a page puts it in.
URI_CHARACTERS = re.compile(r"(?:[A-Za-z0-9\-._~:/?#\[\]@!$&()*+,;=]|%[0-9A-Fa-f]{2})*")
http_url = URLValidator(schemes=["http", "https"])


def validate_image_url(value: str) -> None:
    """An http(s) URL that the product's own response schema accepts; Django's URLValidator alone
    lets through quotes, spaces escaped as nothing, and characters outside RFC 3986."""
    if not value:
        return
    http_url(value)
    if not URI_CHARACTERS.fullmatch(value):
        raise ValidationError(
            "Enter an http(s) URL of RFC 3986 characters only (percent-encode the others).",
            code="invalid",
        )
