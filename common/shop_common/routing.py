"""Every path answers with and without its trailing slash, without a redirect; unknown paths get JSON 404."""

import functools
from collections.abc import Callable
from typing import Any

from django.core.signals import setting_changed
from django.http import HttpRequest, HttpResponse
from django.urls import Resolver404, get_urlconf, resolve

from shop_common import errors
from shop_common.error_handlers import error_response


def _other_spelling(path: str) -> str:
    return path[:-1] if path.endswith("/") else f"{path}/"


@functools.lru_cache(maxsize=4096)
def _routed(path: str, urlconf: Any) -> bool:
    # Django resolves the path again for the view; remembering the answer spares one resolution
    # per request on the hot paths (a fixed set of URLs; ids make the rest, bounded by maxsize).
    try:
        match = resolve(path, urlconf)
    except Resolver404:
        return False
    # The Django admin's catch-all matches any path under admin/ (and sends it to the login page):
    # it is not a route of its own, so /admin/login still finds /admin/login/.
    return getattr(match.func, "__name__", "") != "catch_all_view"


def _forget_routes(*, setting: str, **kwargs: Any) -> None:
    if setting == "ROOT_URLCONF":
        _routed.cache_clear()


setting_changed.connect(_forget_routes)


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
        if not _routed(path, urlconf):
            alternative = _other_spelling(path)
            if not alternative or not _routed(alternative, urlconf):
                return error_response(404, errors.NOT_FOUND, details={"path": request.path})
            request.path_info = alternative
            request.path = f"{request.META.get('SCRIPT_NAME', '').rstrip('/')}{alternative}"
        return self.get_response(request)
