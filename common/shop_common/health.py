import logging

from django.conf import settings
from django.db import DatabaseError, connection
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from shop_common import errors
from shop_common.cache import cache_state
from shop_common.error_handlers import error_body
from shop_common.service_client import breaker_states

logger = logging.getLogger("shop.health")


def database_is_reachable() -> bool:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError:
        logger.warning("Health check: the database is unreachable", exc_info=True)
        return False
    return True


class HealthView(APIView):
    """Liveness and the service's own database; 503 when the database does not answer.

    ``breakers`` lists the circuit breaker of each service this worker process has called
    (``closed``, ``open``, ``half_open``). An open breaker does not make this a 503: the service
    itself is alive, and restarting it would not bring the other one back.

    ``cache`` says whether this worker serves with its Redis cache or without it (``degraded``,
    since when): shop_common.cache. A degraded cache is not a 503 either.
    """

    authentication_classes: list = []
    permission_classes = [AllowAny]

    @extend_schema(
        responses=inline_serializer(
            "Health",
            {
                "service": serializers.CharField(),
                "version": serializers.CharField(),
                "status": serializers.CharField(),
                "database": serializers.DictField(),
                "breakers": serializers.DictField(),
                "cache": serializers.DictField(),
            },
        )
    )
    def get(self, request: Request) -> Response:
        database_ok = database_is_reachable()
        body = {
            "service": settings.SERVICE_NAME,
            "version": settings.SERVICE_VERSION,
            "status": "ok" if database_ok else "unavailable",
            "database": {
                "status": "ok" if database_ok else "unavailable",
                "vendor": connection.vendor,
            },
            "breakers": breaker_states(),
            "cache": cache_state(),
        }
        if database_ok:
            return Response(body)
        body |= error_body(
            errors.DEPENDENCY_UNAVAILABLE,
            f"The {settings.SERVICE_NAME} service's database is unreachable.",
            {"service": "database"},
        )
        return Response(body, status=503)
