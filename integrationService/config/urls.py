from django.urls import include, path

from shop_common.urls import handler400, handler403, handler404, handler500, service_urlpatterns  # noqa: F401

urlpatterns = [
    *service_urlpatterns(),
    path("", include("checkout.urls")),
    path("api/", include("checkout.urls")),  # the first release's prefix
]
