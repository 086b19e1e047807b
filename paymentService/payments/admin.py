"""The payment staff's admin: payments with their status history and refunds, refunds, webhook
events, and what the order service was (or is yet to be) told. Nobody adds, changes or deletes a
row here, ADMIN included: money moves only through the services and the providers. A refund is
the one thing staff do here, and it goes through the same service as ``POST
/payments/{id}/refund/`` (a form, a confirmation page, then the refund; ``refund_view``). Staff log
in with their user-service email and password (shop_common.staff_admin)."""

import uuid
from decimal import Decimal
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Exists, OuterRef, QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse

from payments.models import (
    REFUNDABLE_STATUSES,
    OrderNotice,
    Payment,
    PaymentStatusChange,
    Refund,
    RefundOrigin,
    RefundStatus,
    WebhookEvent,
)
from payments.services.refunds import refund_payment, refundable_amount
from shop_common.errors import ServiceError
from shop_common.staff_admin import SESSION_KEY, StaffAdminLoginForm, staff_session_state

admin.site.login_form = StaffAdminLoginForm
admin.site.site_header = "Shop payments"
admin.site.site_title = "Shop payments"


class ReadOnly:
    """Nobody adds, changes or deletes money records here (whatever the permissions say)."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class StartedByFilter(admin.SimpleListFilter):
    """Who or what started a refund: the automatic ones are the payment service's own."""

    title = "who started it"
    parameter_name = "started_by"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [
            ("automatic", "automatic (payment service)"),
            ("staff", "staff"),
            ("provider", "the provider's dashboard"),
        ]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Refund]) -> QuerySet[Refund]:
        if self.value() == "automatic":
            return queryset.filter(automatic=True)
        if self.value() == "staff":
            return queryset.filter(origin=RefundOrigin.SHOP, automatic=False)
        if self.value() == "provider":
            return queryset.filter(origin=RefundOrigin.PROVIDER)
        return queryset


class AutomaticRefundFilter(admin.SimpleListFilter):
    title = "refunded automatically"
    parameter_name = "automatic_refund"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("yes", "yes"), ("no", "no")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Payment]) -> QuerySet[Payment]:
        if self.value() in ("yes", "no"):
            return queryset.filter(automatic_refund=self.value() == "yes")
        return queryset


class StatusChangeInline(ReadOnly, admin.TabularInline):
    model = PaymentStatusChange
    extra = 0
    fields = ["at", "from_status", "to_status", "reason"]
    readonly_fields = fields
    verbose_name = "status change"


class RefundInline(ReadOnly, admin.TabularInline):
    model = Refund
    extra = 0
    fields = [
        "id",
        "origin",
        "amount",
        "currency",
        "status",
        "started_by",
        "reason",
        "provider_refund_id",
        "failure_reason",
        "created_at",
        "updated_at",
    ]
    readonly_fields = fields
    show_change_link = True


@admin.register(Payment)
class PaymentAdmin(ReadOnly, admin.ModelAdmin):
    list_display = [
        "id",
        "order_id",
        "gateway",
        "status",
        "amount",
        "currency",
        "captured_amount",
        "refunded_amount",
        "refunded_automatically",
        "created_at",
    ]
    list_filter = ["gateway", "status", AutomaticRefundFilter, "currency"]
    search_fields = ["=id", "=order_id", "=user_id", "provider_reference", "provider_payment_id"]
    search_help_text = "Payment id, order id, user id, or the provider's checkout or payment id."
    fields = [
        "order_id",
        "user_id",
        "gateway",
        "status",
        "amount",
        "currency",
        "captured_amount",
        "refunded_amount",
        "failure_reason",
        "provider_reference",
        "provider_payment_id",
        "checkout_url",
        "created_at",
        "updated_at",
    ]
    readonly_fields = fields
    inlines = [StatusChangeInline, RefundInline]
    change_form_template = "admin/payments/payment/change_form.html"

    def get_queryset(self, request: HttpRequest) -> QuerySet[Payment]:
        automatic = Refund.objects.filter(payment=OuterRef("pk"), automatic=True)
        return super().get_queryset(request).annotate(automatic_refund=Exists(automatic))

    @admin.display(boolean=True, description="refunded automatically", ordering="automatic_refund")
    def refunded_automatically(self, payment: Payment) -> bool:
        return payment.automatic_refund

    def get_urls(self) -> list[URLPattern]:
        refund = path(
            "<path:object_id>/refund/",
            self.admin_site.admin_view(self.refund_view),
            name="payments_payment_refund",
        )
        return [refund, *super().get_urls()]

    def has_refund_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("payments.refund_payment")

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        payment = self.get_object(request, object_id)
        refundable = (
            payment is not None
            and payment.status in REFUNDABLE_STATUSES
            and self.has_refund_permission(request)
        )
        return super().change_view(
            request, object_id, form_url, {**(extra_context or {}), "refundable": refundable}
        )

    def refund_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """A refund, in three steps: the form (amount, reason), a page that shows what will be
        refunded, then the refund itself. Each form carries a key made when the form was shown,
        so a second submit of the same confirmation is the same refund, never a second one."""
        if not self.has_refund_permission(request):
            raise PermissionDenied
        payment = get_object_or_404(Payment, pk=object_id)
        back = reverse("admin:payments_payment_change", args=[payment.pk])
        if request.method == "POST" and "confirm" in request.POST:
            # Bounded by the refund service, which answers a second submit with the first refund.
            confirmed = RefundForm(request.POST, left=None)
            if confirmed.is_valid() and confirmed.cleaned_data["amount"]:
                self._refund(request, payment, confirmed.cleaned_data)
            else:
                self.message_user(
                    request, "No refund: the confirmation was incomplete.", messages.ERROR
                )
            return HttpResponseRedirect(back)
        left = refundable_amount(payment)
        if payment.status not in REFUNDABLE_STATUSES or left <= 0:
            self.message_user(
                request,
                f"Payment {payment.pk} is {payment.status}: nothing captured is left to refund.",
                messages.ERROR,
            )
            return HttpResponseRedirect(back)
        form = RefundForm(request.POST or None, left=left, initial={"key": uuid.uuid4().hex})
        if request.method == "POST" and form.is_valid():
            return self._page(
                request, payment, form, left, confirm=form.cleaned_data["amount"] or left
            )
        return self._page(request, payment, form, left)

    def _refund(self, request: HttpRequest, payment: Payment, data: dict[str, Any]) -> None:
        try:
            refund, created = refund_payment(
                payment_id=payment.pk,
                amount=data["amount"],
                reason=data["reason"],
                request_key=f"admin:{data['key']}",
                requested_by=f"staff:{_staff_user_id(request)}",
            )
        except ServiceError as error:
            self.message_user(request, f"No refund: {error.message}", messages.ERROR)
            return
        if created and refund.status == RefundStatus.SUCCEEDED:  # its webhook came first
            self.message_user(
                request,
                f"Refund {refund.pk} of {refund.amount} {refund.currency} sent to "
                f"{payment.gateway} and confirmed by it.",
                messages.SUCCESS,
            )
        elif created:
            self.message_user(
                request,
                f"Refund {refund.pk} of {refund.amount} {refund.currency} sent to "
                f"{payment.gateway} ({refund.status}); the provider's webhook confirms it.",
                messages.SUCCESS,
            )
        else:
            self.message_user(
                request,
                f"This refund was made already (refund {refund.pk}, {refund.amount} "
                f"{refund.currency}, {refund.status}): nothing was sent again.",
                messages.WARNING,
            )

    def _page(
        self,
        request: HttpRequest,
        payment: Payment,
        form: "RefundForm",
        left: Decimal,
        confirm: Decimal | None = None,
    ) -> TemplateResponse:
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": f"Refund payment {payment.pk}",
            "payment": payment,
            "form": form,
            "left": left,
            "confirm": confirm,
            "left_after": None if confirm is None else left - confirm,
        }
        return TemplateResponse(request, "admin/payments/payment/refund.html", context)


class RefundForm(forms.Form):
    amount = forms.DecimalField(
        max_digits=12,
        decimal_places=2,
        min_value=Decimal("0.01"),
        required=False,
        help_text="Empty: everything not yet refunded.",
    )
    reason = forms.CharField(max_length=255)
    key = forms.CharField(max_length=64, widget=forms.HiddenInput)

    def __init__(self, *args: Any, left: Decimal | None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.left = left

    def clean_amount(self) -> Decimal | None:
        amount = self.cleaned_data["amount"]
        if amount is not None and self.left is not None and amount > self.left:
            raise forms.ValidationError(f"At most {self.left}: what is left to refund.")
        return amount


def _staff_user_id(request: HttpRequest) -> object:
    """The user-service id of the staff member (what the API records), from the session the
    admin's middleware has just checked; the email if that cannot be read."""
    state = staff_session_state(request.session.get(SESSION_KEY, ""))
    return (state or {}).get("user", {}).get("id") or request.user.username


@admin.register(Refund)
class RefundAdmin(ReadOnly, admin.ModelAdmin):
    list_display = [
        "id",
        "payment",
        "origin",
        "started_by",
        "status",
        "amount",
        "currency",
        "gateway",
        "reason",
        "provider_refund_id",
        "created_at",
    ]
    list_filter = [StartedByFilter, "origin", "status", "payment__gateway", "currency"]
    ordering = ["-created_at", "-id"]
    list_select_related = ["payment"]
    search_fields = ["=id", "=payment__id", "=payment__order_id", "provider_refund_id"]
    search_help_text = "Refund id, payment id, order id, or the provider's refund id."
    fields = [
        "payment",
        "origin",
        "amount",
        "currency",
        "status",
        "started_by",
        "requested_by",
        "automatic",
        "reason",
        "request_key",
        "provider_refund_id",
        "failure_reason",
        "created_at",
        "updated_at",
    ]
    readonly_fields = fields

    @admin.display(description="gateway", ordering="payment__gateway")
    def gateway(self, refund: Refund) -> str:
        return refund.payment.gateway

    @admin.display(description="started by", ordering="automatic")
    def started_by(self, refund: Refund) -> str:
        return refund.started_by


@admin.register(WebhookEvent)
class WebhookEventAdmin(ReadOnly, admin.ModelAdmin):
    list_display = [
        "received_at",
        "provider",
        "type",
        "event_id",
        "outcome",
        "rejection_reason",
        "processed_at",
    ]
    list_filter = ["provider", "type"]
    search_fields = ["event_id", "outcome"]
    search_help_text = "The provider's event id, or what applying it did (needs_refund, ...)."
    fields = [
        "provider",
        "event_id",
        "type",
        "outcome",
        "rejection_reason",
        "received_at",
        "processed_at",
    ]
    readonly_fields = fields


class DeliveredFilter(admin.SimpleListFilter):
    title = "delivered"
    parameter_name = "delivered"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("yes", "yes"), ("no", "no: waiting for the order service")]

    def queryset(
        self, request: HttpRequest, queryset: QuerySet[OrderNotice]
    ) -> QuerySet[OrderNotice]:
        if self.value() in ("yes", "no"):
            return queryset.filter(done_at__isnull=self.value() == "no")
        return queryset


@admin.register(OrderNotice)
class OrderNoticeAdmin(ReadOnly, admin.ModelAdmin):
    list_display = [
        "id",
        "payment",
        "kind",
        "answer",
        "attempts",
        "last_error",
        "created_at",
        "done_at",
    ]
    list_filter = [DeliveredFilter, "kind", "answer"]
    list_select_related = ["payment"]
    search_fields = ["=payment__id", "=payment__order_id"]
    search_help_text = "Payment id or order id."
    fields = [
        "payment",
        "kind",
        "reason",
        "answer",
        "attempts",
        "last_error",
        "next_attempt_at",
        "created_at",
        "done_at",
    ]
    readonly_fields = fields
