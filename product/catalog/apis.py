"""The product service's HTTP API: the public catalog, staff writes, and the internal stock API."""

import hashlib
from collections.abc import Callable
from urllib.parse import urlencode

from django.db.models import Model, QuerySet
from django.http import HttpResponse
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.exceptions import ValidationError
from rest_framework.permissions import AllowAny, BasePermission
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from catalog import cache, services
from catalog.models import Category, Product, Reservation
from catalog.selectors import (
    ORDERINGS,
    category_list,
    category_or_404,
    product_answers,
    product_facts,
    product_list,
    visible_product,
)
from catalog.validators import validate_image_url
from shop_common.cache import cache_is_shared
from shop_common.fields import STOCK_LINE_MAX_QUANTITY, STOCK_MAX, IdField
from shop_common.internal_api import InternalApi
from shop_common.pagination import paginated_response
from shop_common.permissions import ADMIN, STAFF, HasRole, is_staff
from shop_common.schema import DECIMAL_FILTER, raises

StaffOnly = HasRole(STAFF, ADMIN)


class ProductOutput(serializers.ModelSerializer):
    quantity = serializers.IntegerField(source="stock_on_hand", help_text="stock on hand")
    available = serializers.IntegerField(help_text="on hand minus reserved for placed orders")
    category = serializers.IntegerField(source="category_id")

    class Meta:
        model = Product
        fields = [
            "id",
            "title",
            "slug",
            "description",
            "sku",
            "price",
            "currency",
            "quantity",
            "available",
            "category",
            "image_url",
            "is_active",
            "created_at",
            "updated_at",
        ]


class CategoryOutput(serializers.ModelSerializer):
    class Meta:
        model = Category
        fields = ["id", "name", "slug", "description", "parent", "created_at", "updated_at"]


class ReadPublicWriteStaff(APIView):
    """GET for everyone (a bad token is still a 401); every other method for STAFF and ADMIN."""

    def get_permissions(self) -> list[BasePermission]:
        return [AllowAny()] if self.request.method in ("GET", "HEAD", "OPTIONS") else [StaffOnly()]

    def saved(
        self, save: Callable[..., Model], *, partial: bool = False, created: bool = False, **target
    ) -> Response:
        """The body parsed by InputSerializer, written by the service ``save`` (with ``target``,
        the row to change, if any), answered by OutputSerializer."""
        data = self.InputSerializer(data=self.request.data, partial=partial)
        data.is_valid(raise_exception=True)
        return Response(
            self.OutputSerializer(save(**target, **data.validated_data)).data,
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )

    def cached_page(
        self,
        name: str,
        queryset: Callable[[], QuerySet],
        represent: Callable[[list], list] | None = None,
    ) -> HttpResponse:
        """A page of a list, from the catalog cache; ``queryset`` is built only on a miss. The page
        is answered by OutputSerializer, or by ``represent`` from rows (the product list)."""
        return cache.cached_json(
            cache_key(self.request, name),
            lambda: (
                paginated_response(
                    queryset=queryset(),
                    serializer_class=self.OutputSerializer,
                    represent=represent,
                    request=self.request,
                    view=self,
                ).data
            ),
        )


def cache_key(request: Request, *parts: object) -> str:
    query = urlencode(sorted(request.query_params.lists()), doseq=True)
    return ":".join(
        str(part) for part in (*parts, int(is_staff(request.user)), request.get_host(), query)
    )


# --- products --------------------------------------------------------------------------------


class ProductInput(serializers.Serializer):
    title = serializers.CharField(max_length=200)
    slug = serializers.SlugField(max_length=220, required=False, allow_blank=True)
    sku = serializers.CharField(max_length=64)
    description = serializers.CharField(required=False, allow_blank=True)
    category = serializers.PrimaryKeyRelatedField(
        queryset=Category.objects.all(), pk_field=IdField()
    )
    price = serializers.DecimalField(max_digits=10, decimal_places=2, min_value=0)
    currency = serializers.RegexField(
        r"^[A-Za-z]{3}$", required=False, help_text="ISO 4217, e.g. USD"
    )
    image_url = serializers.URLField(
        max_length=500, required=False, allow_blank=True, validators=[validate_image_url]
    )
    is_active = serializers.BooleanField(required=False)
    quantity = serializers.IntegerField(
        min_value=0, max_value=STOCK_MAX, source="stock_on_hand", required=False
    )


class ProductListApi(ReadPublicWriteStaff):
    InputSerializer = ProductInput
    OutputSerializer = ProductOutput

    @extend_schema(
        parameters=[
            OpenApiParameter("q", str, description="search in title and description; exact SKU"),
            OpenApiParameter("category", int),
            OpenApiParameter("min_price", DECIMAL_FILTER),
            OpenApiParameter("max_price", DECIMAL_FILTER),
            OpenApiParameter("in_stock", bool),
            OpenApiParameter(
                "is_active", bool, description="staff only; others see active products"
            ),
            OpenApiParameter("ordering", str, enum=list(ORDERINGS)),
            OpenApiParameter("page", int),
            OpenApiParameter("page_size", int, description="1 to 100, default 20"),
        ],
        responses=ProductOutput(many=True),
    )
    def get(self, request: Request) -> HttpResponse:
        return self.cached_page(
            "products",
            lambda: product_list(filters=request.query_params, staff=is_staff(request.user)),
            represent=product_answers,
        )

    @extend_schema(
        request=ProductInput,
        responses={201: ProductOutput, 409: raises("SKU taken, or stock below what is reserved.")},
    )
    def post(self, request: Request) -> Response:
        return self.saved(services.save_product, created=True)


class ProductDetailApi(ReadPublicWriteStaff):
    InputSerializer = ProductInput
    OutputSerializer = ProductOutput

    def product(self, product_id: int) -> Product:
        return visible_product(product_id=product_id, staff=is_staff(self.request.user))

    @extend_schema(responses=ProductOutput)
    def get(self, request: Request, product_id: int) -> HttpResponse:
        return cache.cached_json(
            cache_key(request, "product", product_id),
            lambda: self.OutputSerializer(self.product(product_id)).data,
        )

    def _update(self, request: Request, product_id: int, *, partial: bool) -> Response:
        return self.saved(services.save_product, product=self.product(product_id), partial=partial)

    @extend_schema(
        request=ProductInput,
        responses={200: ProductOutput, 409: raises("SKU taken, or stock below what is reserved.")},
    )
    def put(self, request: Request, product_id: int) -> Response:
        return self._update(request, product_id, partial=False)

    @extend_schema(
        request=ProductInput,
        responses={200: ProductOutput, 409: raises("SKU taken, or stock below what is reserved.")},
    )
    def patch(self, request: Request, product_id: int) -> Response:
        return self._update(request, product_id, partial=True)

    @extend_schema(responses={204: None})
    def delete(self, request: Request, product_id: int) -> Response:
        services.deactivate_product(product=self.product(product_id))
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- categories ------------------------------------------------------------------------------


class CategoryInput(serializers.Serializer):
    name = serializers.CharField(max_length=120)
    slug = serializers.SlugField(max_length=140, required=False, allow_blank=True)
    description = serializers.CharField(required=False, allow_blank=True)
    parent = serializers.PrimaryKeyRelatedField(
        queryset=Category.objects.all(), required=False, allow_null=True
    )


class CategoryListApi(ReadPublicWriteStaff):
    InputSerializer = CategoryInput
    OutputSerializer = CategoryOutput

    @extend_schema(responses=CategoryOutput(many=True))
    def get(self, request: Request) -> HttpResponse:
        return self.cached_page("categories", category_list)

    @extend_schema(
        request=CategoryInput,
        responses={201: CategoryOutput, 409: raises("The name or slug is taken.")},
    )
    def post(self, request: Request) -> Response:
        return self.saved(services.save_category, created=True)


class CategoryDetailApi(ReadPublicWriteStaff):
    InputSerializer = CategoryInput
    OutputSerializer = CategoryOutput

    @extend_schema(responses=CategoryOutput)
    def get(self, request: Request, category_id: int) -> Response:
        return Response(self.OutputSerializer(category_or_404(category_id=category_id)).data)

    def _update(self, request: Request, category_id: int, *, partial: bool) -> Response:
        category = category_or_404(category_id=category_id)
        return self.saved(services.save_category, category=category, partial=partial)

    @extend_schema(
        request=CategoryInput,
        responses={200: CategoryOutput, 409: raises("The name or slug is taken.")},
    )
    def put(self, request: Request, category_id: int) -> Response:
        return self._update(request, category_id, partial=False)

    @extend_schema(
        request=CategoryInput,
        responses={200: CategoryOutput, 409: raises("The name or slug is taken.")},
    )
    def patch(self, request: Request, category_id: int) -> Response:
        return self._update(request, category_id, partial=True)

    @extend_schema(
        responses={204: None, 409: raises("The category has products or subcategories.")}
    )
    def delete(self, request: Request, category_id: int) -> Response:
        services.delete_category(category=category_or_404(category_id=category_id))
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- internal: stock and batch lookup (service token, scope internal) -------------------------


class ReservationLineOutput(serializers.Serializer):
    product_id = serializers.IntegerField()
    quantity = serializers.IntegerField()


class ReservationOutput(serializers.ModelSerializer):
    lines = ReservationLineOutput(many=True)

    class Meta:
        model = Reservation
        fields = ["order_ref", "status", "expires_at", "closed_at", "release_reason", "lines"]


class ReservedLineOutput(ReservationLineOutput):
    title = serializers.CharField(source="product.title")
    sku = serializers.CharField(source="product.sku")
    price = serializers.DecimalField(source="product.price", max_digits=10, decimal_places=2)
    currency = serializers.CharField(source="product.currency")


class ReservedOutput(ReservationOutput):
    """A reservation as reserve answers it: each line with its product's catalog facts, read under
    the same row locks as the stock was reserved."""

    lines = ReservedLineOutput(many=True)


class StockLineInput(serializers.Serializer):
    product_id = IdField()
    quantity = serializers.IntegerField(min_value=1, max_value=STOCK_LINE_MAX_QUANTITY)


class OrderRefInput(serializers.Serializer):
    order_ref = serializers.RegexField(r"^[A-Za-z0-9._:-]{1,64}$")


class ReserveStockApi(InternalApi):
    callers = ("order",)

    class InputSerializer(OrderRefInput):
        lines = StockLineInput(many=True, allow_empty=False, max_length=100)

    OutputSerializer = ReservedOutput

    @extend_schema(
        request=InputSerializer,
        responses={
            201: ReservedOutput,
            200: ReservedOutput,
            404: raises("Products unknown or not for sale (named in details.product_ids)."),
            409: raises("Not enough stock for a line (every short line named)."),
            422: raises("The order reference was reserved before with other lines."),
        },
    )
    def post(self, request: Request) -> Response:
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        reservation, created = services.reserve_stock(
            order_ref=data.validated_data["order_ref"],
            lines=[services.StockLine(**line) for line in data.validated_data["lines"]],
        )
        return Response(
            self.OutputSerializer(reservation).data,
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )


# Commits or releases the reservation of an order reference: ``close`` names the service that
# does it (a comment, not a docstring, which would become both endpoints' description).
class CloseReservationApi(InternalApi):
    callers = ("order",)
    InputSerializer = OrderRefInput
    OutputSerializer = ReservationOutput
    close: str

    @extend_schema(
        request=OrderRefInput,
        responses={
            200: ReservationOutput,
            404: raises("No reservation has this order reference."),
            409: raises("The reservation is closed the other way (released or committed)."),
        },
    )
    def post(self, request: Request) -> Response:
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        reservation = getattr(services, self.close)(**data.validated_data)
        return Response(self.OutputSerializer(reservation).data)


class CommitStockApi(CloseReservationApi):
    close = "commit_stock"


class ReleaseStockApi(CloseReservationApi):
    close = "release_stock"


class BatchLookupOutput(serializers.ModelSerializer):
    available = serializers.IntegerField()

    class Meta:
        model = Product
        fields = ["id", "title", "sku", "price", "currency", "is_active", "available", "image_url"]


class ProductBatchApi(InternalApi):
    """Many products in one call, for the cart and order services to price their lines."""

    callers = ("cart", "order")

    # Documents the answer only: the rows are built by ``selectors.product_facts`` without a
    # serializer, which halves this lookup's cost (it runs on every cart page and order).
    OutputSerializer = inline_serializer(
        "ProductBatch",
        {
            "results": BatchLookupOutput(many=True),
            "missing": serializers.ListField(child=serializers.IntegerField()),
        },
    )

    @extend_schema(
        parameters=[
            OpenApiParameter("ids", str, required=True, description="comma-separated, at most 100")
        ],
        responses=OutputSerializer,
    )
    def get(self, request: Request) -> Response:
        raw = request.query_params.get("ids", "")
        field = IdField()
        try:
            ids = sorted({field.run_validation(part) for part in raw.split(",") if part.strip()})
        except ValidationError:
            raise ValidationError({"ids": ["Comma-separated product ids are required."]}) from None
        if not ids or len(ids) > 100:
            raise ValidationError({"ids": ["Between 1 and 100 product ids are required."]})
        # With Redis, from the catalog cache: every stock movement moves the catalog version as a
        # price change does, so a cached lookup is as current as a fresh one, and a hit runs no
        # SQL. With local memory a hit would still read the version row: one statement, as the
        # lookup itself is (docs/catalog.md, "Caching").
        if cache_is_shared():
            return cache.cached_json(f"batch:{ids_key(ids)}", lambda: lookup(ids))
        return Response(lookup(ids))


def lookup(ids: list[int]) -> dict:
    found = product_facts(ids)
    return {"results": found, "missing": sorted(set(ids) - {row["id"] for row in found})}


def ids_key(ids: list[int]) -> str:
    """Up to 100 ids, as a cache key of fixed length."""
    return hashlib.sha256(",".join(map(str, ids)).encode()).hexdigest()
