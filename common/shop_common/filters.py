"""Query-string filters (django-filter) applied the one way every list does it."""

from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import QueryDict
from django_filters import FilterSet


def apply_filters(
    filterset_class: type[FilterSet], params: QueryDict | dict, queryset: QuerySet
) -> QuerySet:
    """``queryset`` narrowed by ``params``; a value the FilterSet cannot read (``min_price=abc``,
    ``status=LOST``) is a 400 naming the parameter, never silently no filter."""
    filterset = filterset_class(params, queryset=queryset)
    if not filterset.is_valid():
        raise ValidationError(filterset.errors.as_data())
    return filterset.qs
