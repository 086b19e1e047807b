from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Accounts"

    def ready(self) -> None:
        from accounts.models import UserManager
        from accounts.services import create_user

        UserManager.create_account = staticmethod(create_user)
