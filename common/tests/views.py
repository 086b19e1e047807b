"""Views that fail in every way a real service can, for the error-shape tests."""

import logging

from django.core.exceptions import (
    DisallowedHost,
    PermissionDenied,
    SuspiciousOperation,
    ValidationError,
)
from django.db import OperationalError, connection, transaction
from django.http import Http404, HttpRequest, JsonResponse
from rest_framework import serializers
from rest_framework.exceptions import NotAuthenticated, Throttled
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from shop_common.deadlines import current_deadline, time_left
from shop_common.errors import ConflictError, DependencyUnavailable, ResourceNotFoundException
from shop_common.internal_api import InternalApi
from shop_common.pagination import PageNumberPagination, paginated_response
from shop_common.permissions import ADMIN, STAFF, HasRole, IsAuthenticatedUser

logger = logging.getLogger("tests.views")


class OutOfStock(ConflictError):
    default_code = "out_of_stock"
    default_detail = "Not enough stock."


class PublicView(APIView):
    authentication_classes: list = []
    permission_classes = [AllowAny]


class EchoView(PublicView):
    class InputSerializer(serializers.Serializer):
        quantity = serializers.IntegerField(min_value=1)
        price = serializers.DecimalField(max_digits=10, decimal_places=2)

    def post(self, request: Request) -> Response:
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        logger.info("echo for %s", request.request_id)
        return Response({"received": serializer.validated_data})


class DomainErrorView(PublicView):
    def get(self, request: Request) -> Response:
        raise OutOfStock(details={"lines": [{"product_id": 7, "available": 0}]})


class MissingProductView(PublicView):
    def get(self, request: Request) -> Response:
        raise ResourceNotFoundException("product", 42)


class DependencyDownView(PublicView):
    def get(self, request: Request) -> Response:
        raise DependencyUnavailable("product")


class ThrottledView(PublicView):
    def get(self, request: Request) -> Response:
        raise Throttled(wait=12)


class NeedsLoginView(PublicView):
    def get_authenticate_header(self, request: Request) -> str:
        return 'Bearer realm="api"'

    def get(self, request: Request) -> Response:
        raise NotAuthenticated()


class DjangoHttp404View(PublicView):
    def get(self, request: Request) -> Response:
        raise Http404("no such thing")


class CrashingApiView(PublicView):
    def get(self, request: Request) -> Response:
        raise RuntimeError("secret internal detail: password=hunter2")


class DatabaseDownView(PublicView):
    def get(self, request: Request) -> Response:
        raise OperationalError("(2002, \"Can't connect to server on '127.0.0.1'\")")


class SuspiciousApiView(PublicView):
    def get(self, request: Request) -> Response:
        raise SuspiciousOperation("a request Django would refuse")


class AbsoluteUriApiView(PublicView):
    """Asks for the host like a cache key or ``build_absolute_uri`` does."""

    def get(self, request: Request) -> Response:
        raise DisallowedHost("Invalid HTTP_HOST header: 'evil.example'.")


def plain_suspicious_view(request: HttpRequest) -> JsonResponse:
    raise SuspiciousOperation("a request Django would refuse, in a plain view")


def plain_database_down_view(request: HttpRequest) -> JsonResponse:
    raise OperationalError("(2006, 'Server has gone away')")


def plain_domain_error_view(request: HttpRequest) -> JsonResponse:
    raise OutOfStock()


def crashing_django_view(request: HttpRequest) -> JsonResponse:
    raise RuntimeError("secret internal detail in a plain view")


def plain_not_found_view(request: HttpRequest) -> JsonResponse:
    raise Http404("plain")


def slashless_view(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"path": request.path})


class PaginatedView(PublicView):
    def get(self, request: Request) -> Response:
        paginator = PageNumberPagination()
        page = paginator.paginate_queryset(list(range(250)), request, view=self)
        return paginator.get_paginated_response(page)


class WhoAmIView(APIView):
    permission_classes = [IsAuthenticatedUser]

    def get(self, request: Request) -> Response:
        user = request.user
        return Response({"id": user.id, "email": user.email, "roles": sorted(user.roles)})


class StaffOnlyView(APIView):
    permission_classes = [HasRole(STAFF, ADMIN)]

    def get(self, request: Request) -> Response:
        return Response({"ok": True})


class InternalPingView(InternalApi):
    callers = ("cart",)

    def get(self, request: Request) -> Response:
        return Response({"client_id": request.user.client_id})


class DeadlineView(PublicView):
    """Says what budget it got; ``calls`` proves whether a refused request reached it."""

    calls: list[float | None] = []

    def get(self, request: Request) -> Response:
        left = time_left()
        self.calls.append(left)
        return Response({"time_left": left, "deadline": current_deadline()})


class InternalDeadlineView(InternalApi):
    """:class:`DeadlineView` for calls from the cart service (service token)."""

    callers = ("cart",)
    calls = DeadlineView.calls

    def get(self, request: Request) -> Response:
        left = time_left()
        self.calls.append(left)
        return Response({"time_left": left, "deadline": current_deadline()})


class CustomerDeadlineView(APIView):
    """:class:`DeadlineView` for a person's token (the default authentication)."""

    permission_classes = [IsAuthenticatedUser]

    def get(self, request: Request) -> Response:
        return Response({"time_left": time_left()})


class DjangoValidationErrorView(PublicView):
    """What a service raises for a rule a serializer cannot check (Django's error, not DRF's)."""

    def get(self, request: Request) -> Response:
        raise ValidationError({"parent": ["A category cannot be its own ancestor."]})


def plain_validation_error_view(request: HttpRequest) -> JsonResponse:
    raise ValidationError("Not like this.")


class DjangoPermissionDeniedView(PublicView):
    def get(self, request: Request) -> Response:
        raise PermissionDenied("internal reason")


def plain_permission_denied_view(request: HttpRequest) -> JsonResponse:
    raise PermissionDenied("internal reason")


class NumberSerializer(serializers.Serializer):
    number = serializers.IntegerField(source="*")


class PaginatedSerializedView(PublicView):
    def get(self, request: Request) -> Response:
        return paginated_response(
            queryset=list(range(250)),
            serializer_class=NumberSerializer,
            request=request,
            view=self,
        )


def sql_view(request: HttpRequest) -> JsonResponse:
    """Two statements in a transaction, one with a parameter that must never be logged."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT %s", ["parameter-never-logged"])
        cursor.execute("SELECT  1\n  + 1")
    return JsonResponse({})
