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
    path("database-down/", views.DatabaseDownView.as_view()),
    path("plain-database-down/", views.plain_database_down_view),
    path("plain-domain-error/", views.plain_domain_error_view),
    path("plain-404/", views.plain_not_found_view),
    path("suspicious/", views.SuspiciousApiView.as_view()),
    path("absolute-uri/", views.AbsoluteUriApiView.as_view()),
    path("plain-suspicious/", views.plain_suspicious_view),
    path("legacy/validate_token", views.slashless_view),
    path("pages/", views.PaginatedView.as_view()),
    path("serialized-pages/", views.PaginatedSerializedView.as_view()),
    path("validation-error/", views.DjangoValidationErrorView.as_view()),
    path("plain-validation-error/", views.plain_validation_error_view),
    path("drf-403/", views.DjangoPermissionDeniedView.as_view()),
    path("plain-403/", views.plain_permission_denied_view),
    path("whoami/", views.WhoAmIView.as_view()),
    path("staff-only/", views.StaffOnlyView.as_view()),
    path("internal/ping/", views.InternalPingView.as_view()),
    path("deadline/", views.DeadlineView.as_view()),
    path("internal/deadline/", views.InternalDeadlineView.as_view()),
    path("customer-deadline/", views.CustomerDeadlineView.as_view()),
    path("sql/", views.sql_view),
]
