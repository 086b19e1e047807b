"""Cached catalog answers, keyed by the catalog version (docs/catalog.md, "Caching").

Every write (API, admin, stock movement) bumps the version row after its transaction commits, so a
cached answer of any process is never served after the write is visible. The list itself (count,
page, serialization) comes from the cache; the version is read per request:
- from the database (one primary-key query) when each worker has a local-memory cache of its own,
  as under ``make run``: the row is what the workers share;
- from Redis when the cache is shared: the writer raises the copy there to the new version after
  its commit, and a hit reads the copy and the answer filed under it in one round trip (a short
  script, ``get_under_version``), no SQL. The copy lives
  ``CATALOG_VERSION_RECHECK_SECONDS`` and is then read again from the row, which bounds how long a
  raise lost to a Redis outage can leave older answers served.
"""

import functools
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import connection, transaction
from django.db.models import F
from django.http import HttpResponse

from catalog.models import CatalogVersion
from shop_common.cache import cache_is_shared
from shop_common.renderers import JSONRenderer

VERSION_KEY = "catalog:version"


@functools.cache
def _version_sql() -> str:
    # Written once: on a cache hit this is the only query, and building it through the ORM on
    # every request cost more than running it (bench: cached list 0.50x -> 0.71x bare Django on SQLite).
    return f"SELECT value FROM {CatalogVersion._meta.db_table} WHERE id = 1"  # noqa: S608 (no input)


def stored_version() -> int:
    """The version row: the truth every copy is raised to."""
    with connection.cursor() as cursor:
        cursor.execute(_version_sql())
        row = cursor.fetchone()
    return row[0] if row else 0


def _version_from_row() -> int:
    """The row's version; with Redis also copied there, where the copy was missing."""
    version = stored_version()
    if cache_is_shared():
        return _raise_shared_copy(version) or version
    return version


def _raise_shared_copy(version: int) -> int | None:
    """The shared copy raised to ``version`` (never lowered: a reader that read the row before a
    write committed cannot undo the writer's raise); the copy's value, None without Redis."""
    return cache.raise_to(VERSION_KEY, version, timeout=settings.CATALOG_VERSION_RECHECK_SECONDS)


def _bump() -> None:
    if not CatalogVersion.objects.filter(pk=1).update(value=F("value") + 1):
        CatalogVersion.objects.get_or_create(pk=1, defaults={"value": 1})
    if hasattr(cache, "raise_to"):  # Redis configured, even if this worker last found it down
        _raise_shared_copy(stored_version())


def invalidate() -> None:
    """Call inside the write's transaction: the version moves once the write is committed."""
    transaction.on_commit(_bump)


def cached_json(key: str, compute: Callable[[], Any]) -> HttpResponse:
    """The JSON answer for ``key``: rendered once and kept as bytes, so that a hit costs neither a
    query (beyond the version) nor serialization."""
    ttl = settings.CATALOG_CACHE_TTL
    if ttl <= 0:
        return _json(compute())
    version, body = None, None
    if cache_is_shared():  # the version's copy and the answer filed under it, one round trip
        version, body = cache.get_under_version(VERSION_KEY, "catalog:v", f":{key}")
    if version is None:  # no copy in Redis (or no Redis): the row, and the answer under it
        version = _version_from_row()
        body = cache.get(f"catalog:v{version}:{key}")
    full_key = f"catalog:v{version}:{key}"
    if body is None:
        body = _render(compute())
        cache.set(full_key, body, timeout=ttl)
    return HttpResponse(body, content_type="application/json")


def _render(data: Any) -> bytes:
    return JSONRenderer().render(data)


def _json(data: Any) -> HttpResponse:
    return HttpResponse(_render(data), content_type="application/json")
