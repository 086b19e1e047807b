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
    names, prefixes, always = _parameters(filterset_class)
    if not always and not any(key in names or key.startswith(prefixes) for key in params):
        return queryset
    filterset = filterset_class(params, queryset=queryset)
    if not filterset.is_valid():
        raise ValidationError(filterset.errors.as_data())
    return filterset.qs


@functools.cache
def _parameters(filterset_class: type[FilterSet]) -> tuple[frozenset, tuple, bool]:
    """The filters' names; their prefixes for a filter read from several parameters (a range's
    ``price_min`` and ``price_max``, a list's ``tag[]``); and whether every request must go through
    the FilterSet: a required filter (its absence is a 400), a form of its own (its ``clean`` may
    refuse any request), or its own way of filtering."""
    filters = filterset_class.base_filters
    always = (
        any(f.extra.get("required") for f in filters.values())
        or filterset_class._meta.form is not FilterSet._meta.form
        or filterset_class.filter_queryset is not FilterSet.filter_queryset
    )
    prefixes = tuple(prefix for name in filters for prefix in (f"{name}_", f"{name}["))
    return frozenset(filters), prefixes, always
