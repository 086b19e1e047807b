"""What every service routes: health, metrics, the OpenAPI schema, interactive docs, and JSON error handlers.

In a service's ``config/urls.py``::

    from shop_common.urls import service_urlpatterns
    from shop_common.urls import handler400, handler403, handler404, handler500  # noqa: F401
"""

from django.urls import URLPattern, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from shop_common.health import HealthView
from shop_common.metrics import metrics_view


class PublicSchemaView(SpectacularAPIView):
    authentication_classes: list = []
    permission_classes: list = []


class PublicDocsView(SpectacularSwaggerSplitView):
    """Swagger UI with its start-up script as a file of its own (``?script``): the page's
    Content-Security-Policy allows no inline script (shop_common.edge)."""

    authentication_classes: list = []
    permission_classes: list = []


def service_urlpatterns() -> list[URLPattern]:
    return [
        path("health/", HealthView.as_view(), name="health"),
        path("metrics", metrics_view, name="metrics"),
        path("api/schema/", PublicSchemaView.as_view(), name="schema"),
        path("api/docs/", PublicDocsView.as_view(url_name="schema"), name="docs"),
    ]


handler400 = "shop_common.error_handlers.bad_request"
handler403 = "shop_common.error_handlers.permission_denied"
handler404 = "shop_common.error_handlers.page_not_found"
handler500 = "shop_common.error_handlers.server_error"
