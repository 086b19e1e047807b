from oauth2_provider.models import AbstractApplication
from oauth2_provider.scopes import SettingsScopes

SERVICE_ONLY_SCOPES = frozenset({"internal", "introspection"})


def is_service_client(application: AbstractApplication | None) -> bool:
    return (
        application is not None
        and application.client_type == AbstractApplication.CLIENT_CONFIDENTIAL
        and application.authorization_grant_type == AbstractApplication.GRANT_CLIENT_CREDENTIALS
    )


class ShopScopes(SettingsScopes):
    """``internal`` and ``introspection`` go only to the shop's own services (confidential
    client-credentials clients); an app acting for a person can never ask for them."""

    def get_available_scopes(self, application=None, request=None, *args, **kwargs) -> list[str]:
        scopes = super().get_available_scopes(application, request, *args, **kwargs)
        if is_service_client(application):
            return scopes
        return [scope for scope in scopes if scope not in SERVICE_ONLY_SCOPES]

    def get_default_scopes(self, application=None, request=None, *args, **kwargs) -> list[str]:
        if is_service_client(application):
            return ["internal"]
        return super().get_default_scopes(application, request, *args, **kwargs)
