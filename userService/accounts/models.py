import uuid
from collections.abc import Callable

from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import PermissionsMixin
from django.db import models
from django.utils import timezone

from shop_common import roles


class Role(models.Model):
    # The built-in roles, named once for every service in shop_common.roles.
    ADMIN = roles.ADMIN
    STAFF = roles.STAFF
    CUSTOMER = roles.CUSTOMER
    BUILT_IN = roles.BUILT_IN

    name = models.CharField(max_length=32, unique=True)
    description = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


def normalize_email(email: str) -> str:
    """Emails are compared and stored in lower case: ``Ann@Shop.test`` and ``ann@shop.test`` are one."""
    return email.strip().lower()


class UserManager(BaseUserManager):
    # accounts.services.create_user, the one way an account is made (``createsuperuser`` comes
    # through here): AccountsConfig.ready() hands it over, so that the models, which the services
    # are built on, never import them.
    create_account: Callable[..., "User"]

    def get_by_natural_key(self, email: str) -> "User":
        return self.get(email=normalize_email(email))

    def create_user(self, email: str, password: str | None = None, **fields) -> "User":
        return self.create_account(email=email, password=password, roles=[Role.CUSTOMER], **fields)

    def create_superuser(self, email: str, password: str | None = None, **fields) -> "User":
        fields.pop("is_staff", None)
        fields.pop("is_superuser", None)
        return self.create_account(email=email, password=password, roles=[Role.ADMIN], **fields)


class User(AbstractBaseUser, PermissionsMixin):
    """A person with an account; logs in by email. Roles say what they may do across the shop."""

    email = models.EmailField(unique=True)
    username = models.CharField(max_length=150, blank=True)
    first_name = models.CharField(max_length=150, blank=True)
    last_name = models.CharField(max_length=150, blank=True)
    phone_number = models.CharField(max_length=32, blank=True)
    is_active = models.BooleanField(default=True)
    # Django admin access of this service; kept equal to "has the ADMIN role" by set_roles().
    is_staff = models.BooleanField(default=False)
    roles = models.ManyToManyField(Role, related_name="users", blank=True)
    date_joined = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return self.email

    def role_names(self) -> list[str]:
        return sorted(role.name for role in self.roles.all())


class LoginSession(models.Model):
    """One login: the family of tokens issued from it. Revoking it kills its access and refresh tokens.

    ``refresh_jti`` is the jti of the one refresh token of the family that may still be used; a
    refresh rotates it, and presenting an older one revokes the session (a stolen token was used).
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="login_sessions")
    refresh_jti = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_refreshed_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_reason = models.CharField(max_length=64, blank=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=255, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["user", "revoked_at"])]

    def __str__(self) -> str:
        return f"{self.user_id}:{self.id}"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None and self.expires_at > timezone.now()


class AttemptCounter(models.Model):
    """One fixed window of a throttle (password failures of an account or an address, signups of
    an address) when there is no shared Redis: every worker of the service counts in one row."""

    key = models.CharField(max_length=160, primary_key=True)
    count = models.PositiveIntegerField(default=0)
    expires_at = models.DateTimeField(db_index=True)

    def __str__(self) -> str:
        return f"{self.key}: {self.count}"
