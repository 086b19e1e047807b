"""The payment staff's admin: payments with their status history and refunds, refunds, webhook
events, and what the order service was (or is yet to be) told. Read-only for everybody, ADMIN included: money moves only through the services and the
providers (a refund is ``POST /payments/{id}/refund/``), never by editing a row. Staff log in with
their user-service email and password (shop_common.staff_admin)."""

from typing import Any

from django.contrib import admin
from django.db.models import Exists, OuterRef, QuerySet
from django.http import HttpRequest

from payments.models import (
    OrderNotice,
    Payment,
    PaymentStatusChange,
    Refund,
    RefundOrigin,
    WebhookEvent,
)
from shop_common.staff_admin import StaffAdminLoginForm

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

    def get_queryset(self, request: HttpRequest) -> QuerySet[Payment]:
        automatic = Refund.objects.filter(payment=OuterRef("pk"), automatic=True)
        return super().get_queryset(request).annotate(automatic_refund=Exists(automatic))

    @admin.display(boolean=True, description="refunded automatically", ordering="automatic_refund")
    def refunded_automatically(self, payment: Payment) -> bool:
        return payment.automatic_refund


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
