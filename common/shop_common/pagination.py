from collections.abc import Callable, Sequence
from typing import Any

from django.db.models import QuerySet
from rest_framework import pagination
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.serializers import BaseSerializer
from rest_framework.views import APIView


class PageNumberPagination(pagination.PageNumberPagination):
    """``page`` and ``page_size`` (1..100); a page size out of range is a 400, not silently clamped."""

    page_size = 20
    page_size_query_param = "page_size"
    max_page_size = 100

    def get_page_size(self, request: Request) -> int:
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None or raw == "":
            return self.page_size
        try:
            size = int(raw)
        except ValueError:
            raise ValidationError({"page_size": ["A whole number is required."]}) from None
        if not 1 <= size <= self.max_page_size:
            raise ValidationError({"page_size": [f"Must be between 1 and {self.max_page_size}."]})
        return size


def paginated_response(
    *,
    queryset: QuerySet | Sequence[Any],
    request: Request,
    view: APIView,
    serializer_class: type[BaseSerializer] | None = None,
    represent: Callable[[list[Any]], list[Any]] | None = None,
    pagination_class: type[pagination.BasePagination] = PageNumberPagination,
) -> Response:
    """One page of ``queryset`` as ``{count, next, previous, results}``: what every list answers
    (the HackSoft styleguide's ``get_paginated_response``). The results are the page through
    ``serializer_class(page, many=True)``, or through ``represent(page)`` for a list whose
    hand-built answer says what it saves (the order history)."""
    paginator = pagination_class()
    page = list(paginator.paginate_queryset(queryset, request, view=view) or [])
    if represent is not None:
        return paginator.get_paginated_response(represent(page))
    return paginator.get_paginated_response(serializer_class(page, many=True).data)
