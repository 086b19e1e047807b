"""A request body over ``MAX_REQUEST_BODY_BYTES`` is refused by its Content-Length, before anything
reads it: 413 ``payload_too_large`` in the error shape, on every path (DRF views, the webhooks, the
admin; shop_common.edge asks first). Bodies without a Content-Length are bounded where they are
read (shop_common.parsers, and Django's DATA_UPLOAD_MAX_MEMORY_SIZE, set to the same limit)."""

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from shop_common.error_handlers import service_error_response
from shop_common.errors import PayloadTooLarge


def refuse_large_body(request: HttpRequest) -> HttpResponse | None:
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return None
    limit = settings.MAX_REQUEST_BODY_BYTES
    if length > limit:
        return service_error_response(PayloadTooLarge(limit))
    return None
