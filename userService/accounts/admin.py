from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.db.models import QuerySet
from django.http import HttpRequest

from accounts import services
from accounts.forms import ThrottledAdminLoginForm
from accounts.models import LoginSession, Role, User
from accounts.session_state import announce_user_change

# The admin's password check is throttled like every other (accounts.backends).
admin.site.login_form = ThrottledAdminLoginForm


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    ordering = ["id"]
    list_display = ["id", "email", "username", "role_list", "is_active", "date_joined"]
    list_filter = ["is_active", "roles"]
    search_fields = ["email", "username", "first_name", "last_name"]
    filter_horizontal = ["roles"]
    readonly_fields = ["last_login", "date_joined", "is_staff", "is_superuser"]
    fieldsets = [
        (None, {"fields": ["email", "password"]}),
        ("Profile", {"fields": ["username", "first_name", "last_name", "phone_number"]}),
        ("Access", {"fields": ["is_active", "roles", "is_staff", "is_superuser"]}),
        ("Dates", {"fields": ["last_login", "date_joined"]}),
    ]
    add_fieldsets = [(None, {"classes": ["wide"], "fields": ["email", "password1", "password2"]})]

    @admin.display(description="roles")
    def role_list(self, user: User) -> str:
        return ", ".join(user.role_names())

    def save_related(self, request: HttpRequest, form, formsets, change: bool) -> None:
        super().save_related(request, form, formsets, change)
        # Roles go through the service, so ADMIN keeps opening the admin and nothing else does.
        services.set_roles(
            user=form.instance, role_ids=[role.id for role in form.instance.roles.all()]
        )
        if not form.instance.is_active:
            services.revoke_sessions(user_id=form.instance.id, reason="deactivated")
        elif change:
            # The roles were saved by the form before set_roles saw them, and the email, username
            # or phone number may have changed: the sessions' cached states are read again.
            announce_user_change(form.instance.id)

    def delete_model(self, request: HttpRequest, obj: User) -> None:
        services.delete_users(user_ids=[obj.pk])

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        services.delete_users(user_ids=list(queryset.values_list("pk", flat=True)))


@admin.register(Role)
class RoleAdmin(admin.ModelAdmin):
    list_display = ["name", "description", "created_at"]
    search_fields = ["name"]

    def save_model(self, request: HttpRequest, obj: Role, form, change: bool) -> None:
        super().save_model(request, obj, form, change)
        if change and "name" in form.changed_data:
            services.roles_changed(role_ids=[obj.pk])

    def delete_model(self, request: HttpRequest, obj: Role) -> None:
        services.delete_roles(role_ids=[obj.pk])

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Role]) -> None:
        services.delete_roles(role_ids=list(queryset.values_list("pk", flat=True)))


@admin.register(LoginSession)
class LoginSessionAdmin(admin.ModelAdmin):
    list_display = [
        "id",
        "user",
        "created_at",
        "expires_at",
        "revoked_at",
        "revoked_reason",
        "ip_address",
    ]
    list_filter = ["revoked_reason"]
    search_fields = ["user__email", "ip_address"]
    readonly_fields = [field.name for field in LoginSession._meta.fields]
    actions = ["revoke"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def delete_model(self, request: HttpRequest, obj: LoginSession) -> None:
        services.delete_sessions(session_ids=[obj.pk])

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[LoginSession]) -> None:
        services.delete_sessions(session_ids=list(queryset.values_list("pk", flat=True)))

    @admin.action(description="Revoke the selected sessions (their tokens stop working at once)")
    def revoke(self, request: HttpRequest, queryset: QuerySet[LoginSession]) -> None:
        count = services.revoke_sessions(
            session_ids=[str(pk) for pk in queryset.values_list("pk", flat=True)],
            reason="revoked_by_admin",
        )
        self.message_user(request, f"Revoked {count} session(s).", messages.SUCCESS)
