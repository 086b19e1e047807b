from django.urls import path

from shop_common.urls import handler400, handler403, handler404, handler500, service_urlpatterns  # noqa: F401
from tests import views

urlpatterns = [
    *service_urlpatterns(),
    path("echo/", views.EchoView.as_view()),
    path("domain-error/", views.DomainErrorView.as_view()),
    path("missing-product/", views.MissingProductView.as_view()),
    path("dependency-down/", views.DependencyDownView.as_view()),
    path("throttled/", views.ThrottledView.as_view()),
    path("needs-login/", views.NeedsLoginView.as_view()),
    path("drf-404/", views.DjangoHttp404View.as_view()),
    path("crash/", views.CrashingApiView.as_view()),
    path("plain-crash/", views.crashing_django_view),
    path("plain-404/", views.plain_not_found_view),
    path("legacy/validate_token", views.slashless_view),
    path("pages/", views.PaginatedView.as_view()),
]
