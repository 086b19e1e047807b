"""Related rows a service has just written, handed to the instance as if prefetched.

A service that creates an order with its lines (or a reservation with its lines) holds every row
of the answer already; reading them back costs one SELECT per relation and tells it nothing new.
``known_related(order, "lines", lines)`` puts them where ``prefetch_related`` would, so
``order.lines.all()`` (a serializer's ``many=True`` field included) answers from memory
The rows must be in the relation's own
order (its ``Meta.ordering``): nothing sorts them here.
"""

from collections.abc import Iterable

from django.db.models import Model


def known_related(instance: Model, name: str, objects: Iterable[Model]) -> None:
    """``instance.<name>.all()`` answers ``objects`` without a query, as after prefetch_related."""
    manager = getattr(instance, name)
    queryset = manager.all()
    queryset._result_cache = list(objects)
    queryset._prefetch_done = True
    if not hasattr(instance, "_prefetched_objects_cache"):
        instance._prefetched_objects_cache = {}
    # The key prefetch_related uses for a reverse foreign key (the relation's cache name).
    instance._prefetched_objects_cache[manager.field.remote_field.cache_name] = queryset
