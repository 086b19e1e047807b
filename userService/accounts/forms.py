"""The HTML login forms (the /login/ page and this service's Django admin): Django's, with the
throttle's refusal shown as a form error rather than raised."""

from typing import Any

from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError

from accounts.throttles import TooManyAttempts


class ThrottledFormMixin:
    def clean(self) -> dict[str, Any]:
        try:
            return super().clean()
        except TooManyAttempts as exc:
            raise ValidationError(exc.message, code="throttled") from None


class ThrottledLoginForm(ThrottledFormMixin, AuthenticationForm):
    error_messages = {
        **AuthenticationForm.error_messages,
        "invalid_login": "The email or password is wrong.",
    }


class ThrottledAdminLoginForm(ThrottledFormMixin, AdminAuthenticationForm):
    pass
