"""Query-string filters (django-filter) applied the one way every list does it."""

import functools

from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import QueryDict
from django_filters import FilterSet


def apply_filters(
    filterset_class: type[FilterSet], params: QueryDict | dict, queryset: QuerySet
) -> QuerySet:
    """``queryset`` narrowed by ``params``; a value the FilterSet cannot read (``min_price=abc``,
    ``status=LOST``) is a 400 naming the parameter, never silently no filter. Without a parameter
    of the FilterSet's, ``queryset`` as it is: the FilterSet would pass over every filter, and
    building it (its form, a copy of every filter) costs more than the page's queries."""
    names, suffixed, required = _parameters(filterset_class)
    if not required and not any(key in names or key.startswith(suffixed) for key in params):
        return queryset
    filterset = filterset_class(params, queryset=queryset)
    if not filterset.is_valid():
        raise ValidationError(filterset.errors.as_data())
    return filterset.qs


@functools.cache
def _parameters(filterset_class: type[FilterSet]) -> tuple[frozenset, tuple, bool]:
    """The filters' names; their prefixes for a filter read from two parameters (a range's
    ``price_min`` and ``price_max``); and whether a filter is required, whose absence is the
    FilterSet's 400 (then every request goes through it)."""
    filters = filterset_class.base_filters
    required = any(f.extra.get("required") for f in filters.values())
    return frozenset(filters), tuple(f"{name}_" for name in filters), required
