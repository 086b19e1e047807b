from django.urls import include, path
from orders.urls import internal_urlpatterns

from shop_common.urls import handler400, handler403, handler404, handler500, service_urlpatterns  # noqa: F401

urlpatterns = [
    *service_urlpatterns(),
    path("", include("orders.urls")),
    path("api/", include("orders.urls")),  # the first release's prefix
    *internal_urlpatterns,
]
