from accounts.forms import ThrottledLoginForm
from accounts.signed_service_tokens import jwks_view
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from shop_common.urls import handler400, handler403, handler404, handler500, service_urlpatterns  # noqa: F401

urlpatterns = [
    *service_urlpatterns(),
    path("admin/", admin.site.urls),
    # The public keys of the services' signed tokens (accounts.signed_service_tokens).
    path("o/jwks/", jwks_view, name="jwks"),
    # Only what the shop uses of django-oauth-toolkit (accounts.oauth); no application management.
    path("o/", include("accounts.oauth", namespace="oauth2_provider")),
    path(
        "login/",
        auth_views.LoginView.as_view(
            template_name="accounts/login.html", authentication_form=ThrottledLoginForm
        ),
        name="web-login",
    ),
    path("", include("accounts.urls")),
]
