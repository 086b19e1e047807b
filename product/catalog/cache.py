"""Cached catalog answers, keyed by the catalog version.

Every write (API, admin, stock movement) bumps the version row after its transaction commits, so a
cached answer of any process — gunicorn workers each have their own local-memory cache — is never
served after the write is visible. Reading the version is one primary-key query per request; the
list itself (count, page, serialization) comes from the cache.
"""

from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models import F

from catalog.models import CatalogVersion


def current_version() -> int:
    version = CatalogVersion.objects.filter(pk=1).values_list("value", flat=True).first()
    return version or 0


def _bump() -> None:
    if not CatalogVersion.objects.filter(pk=1).update(value=F("value") + 1):
        CatalogVersion.objects.get_or_create(pk=1, defaults={"value": 1})


def invalidate() -> None:
    """Call inside the write's transaction: the version moves once the write is committed."""
    transaction.on_commit(_bump)


def cached(key: str, compute: Callable[[], Any]) -> Any:
    ttl = settings.CATALOG_CACHE_TTL
    if ttl <= 0:
        return compute()
    full_key = f"catalog:v{current_version()}:{key}"
    value = cache.get(full_key)
    if value is None:
        value = compute()
        cache.set(full_key, value, timeout=ttl)
    return value
