"""Every path answers with and without its trailing slash, without a redirect; unknown paths get JSON 404."""

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.urls import get_urlconf, is_valid_path

from shop_common import errors
from shop_common.error_handlers import error_response


def _other_spelling(path: str) -> str:
    return path[:-1] if path.endswith("/") else f"{path}/"


class OptionalTrailingSlashMiddleware:
    """Rewrites ``/orders/1`` to ``/orders/1/`` (or the reverse) when only the other one is routed.

    Django's APPEND_SLASH answers with a redirect, which loses a POST body; this rewrites in place.
    It also answers unknown paths with the JSON 404 itself, so that even with DEBUG on no HTML
    page is served.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        urlconf = getattr(request, "urlconf", None) or get_urlconf()
        path = request.path_info
        if not is_valid_path(path, urlconf):
            alternative = _other_spelling(path)
            if not alternative or not is_valid_path(alternative, urlconf):
                return error_response(404, errors.NOT_FOUND, details={"path": request.path})
            request.path_info = alternative
            request.path = f"{request.META.get('SCRIPT_NAME', '').rstrip('/')}{alternative}"
        return self.get_response(request)
