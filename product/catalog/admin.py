from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db import models
from django.db.models import QuerySet
from django.http import HttpRequest

from catalog import cache, services
from catalog.models import Category, Product, Reservation, ReservationLine
from shop_common.staff_admin import StaffAdminLoginForm

admin.site.login_form = StaffAdminLoginForm
admin.site.site_header = "Shop catalog"
admin.site.site_title = "Shop catalog"


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "parent", "updated_at"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}

    def save_model(
        self, request: HttpRequest, obj: Category, form: forms.ModelForm, change: bool
    ) -> None:
        fields = {
            name: form.cleaned_data[name] for name in ("name", "slug", "parent", "description")
        }
        saved = services.save_category(category=obj if change else None, **fields)
        obj.pk = saved.pk

    def delete_model(self, request: HttpRequest, obj: Category) -> None:
        services.delete_category(category=obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Category]) -> None:
        for category in queryset:
            services.delete_category(category=category)


class ProductAdminForm(forms.ModelForm):
    image_url = forms.URLField(max_length=500, required=False, assume_scheme="https")

    class Meta:
        model = Product
        fields = list(services.PRODUCT_FIELDS)

    def clean_stock_on_hand(self) -> int:
        on_hand = self.cleaned_data["stock_on_hand"]
        if self.instance.pk and on_hand < self.instance.stock_reserved:
            raise forms.ValidationError(
                f"{self.instance.stock_reserved} units are reserved for placed orders; stock cannot go below that."
            )
        return on_hand


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    form = ProductAdminForm
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    list_display = [
        "title",
        "sku",
        "category",
        "price",
        "currency",
        "stock_on_hand",
        "available",
        "is_active",
    ]
    list_editable = ["price", "stock_on_hand", "is_active"]
    list_filter = ["is_active", "category", "currency"]
    search_fields = ["title", "sku", "description"]
    list_select_related = ["category"]
    prepopulated_fields = {"slug": ["title"]}
    readonly_fields = ["stock_reserved", "created_at", "updated_at"]
    actions = ["activate", "deactivate"]

    @admin.display(description="available")
    def available(self, product: Product) -> int:
        return product.available

    def save_model(
        self, request: HttpRequest, obj: Product, form: forms.ModelForm, change: bool
    ) -> None:
        fields = {
            name: form.cleaned_data[name]
            for name in services.PRODUCT_FIELDS
            if name in form.cleaned_data
        }
        saved = services.save_product(product=obj if change else None, **fields)
        obj.pk = saved.pk

    def delete_model(self, request: HttpRequest, obj: Product) -> None:
        super().delete_model(request, obj)
        cache.invalidate()

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Product]) -> None:
        super().delete_queryset(request, queryset)
        cache.invalidate()

    @admin.action(description="Activate the selected products")
    def activate(self, request: HttpRequest, queryset: QuerySet[Product]) -> None:
        count = services.set_active(
            product_ids=list(queryset.values_list("pk", flat=True)), active=True
        )
        self.message_user(request, f"{count} product(s) activated.", messages.SUCCESS)

    @admin.action(description="Deactivate the selected products")
    def deactivate(self, request: HttpRequest, queryset: QuerySet[Product]) -> None:
        count = services.set_active(
            product_ids=list(queryset.values_list("pk", flat=True)), active=False
        )
        self.message_user(request, f"{count} product(s) deactivated.", messages.SUCCESS)


class ReservationLineInline(admin.TabularInline):
    model = ReservationLine
    extra = 0
    readonly_fields = ["product", "quantity"]
    can_delete = False


@admin.register(Reservation)
class ReservationAdmin(admin.ModelAdmin):
    list_display = [
        "order_ref",
        "status",
        "created_at",
        "expires_at",
        "closed_at",
        "release_reason",
    ]
    list_filter = ["status"]
    search_fields = ["order_ref"]
    readonly_fields = [
        "order_ref",
        "status",
        "created_at",
        "expires_at",
        "closed_at",
        "release_reason",
    ]
    inlines = [ReservationLineInline]

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
