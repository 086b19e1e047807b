"""A request body over ``MAX_REQUEST_BODY_BYTES`` is refused by its Content-Length, before anything
reads it: 413 ``payload_too_large`` in the error shape, on every path (DRF views, the webhooks, the
admin). Bodies without a Content-Length are bounded where they are read (shop_common.parsers, and
Django's DATA_UPLOAD_MAX_MEMORY_SIZE, set to the same limit)."""

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from shop_common.error_handlers import service_error_response
from shop_common.errors import PayloadTooLarge


class RequestBodyLimitMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        limit = settings.MAX_REQUEST_BODY_BYTES
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if length > limit:
            return service_error_response(PayloadTooLarge(limit))
        return self.get_response(request)
