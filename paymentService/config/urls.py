from django.contrib import admin
from django.urls import include, path
from payments.urls import legacy_urlpatterns

from shop_common.urls import handler400, handler403, handler404, handler500, service_urlpatterns  # noqa: F401

urlpatterns = [
    *service_urlpatterns(),
    path("admin/", admin.site.urls),
    path("", include("payments.urls")),
    *legacy_urlpatterns,
]
