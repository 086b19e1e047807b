"""A customer's pages (their history, and each of their orders) cached as rendered JSON under the
customer's history version (docs/orders.md, "Reading"): a change to any of their orders gives a
new version, so a page is never served after the change is visible, in any worker. The pages stay
in the worker's own memory (the "history" cache of the settings)."""

import hashlib
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.cache import caches
from django.http import HttpResponse

from orders.selectors import history_version
from shop_common.renderers import JSONRenderer

# A page larger than this (big orders, a page size of 100) is answered, not kept: the worker keeps
# at most its cache's MAX_ENTRIES pages, and any query string makes a page of its own.
MAX_PAGE_BYTES = 64 * 1024


def customer_page(*, user_id: int, address: str, compute: Callable[[], Any]) -> HttpResponse:
    """The page answered at ``address`` (the request's absolute URI: the order, the filters, the
    page and the host its links are built on) for this customer, made only of their own orders;
    ``compute`` runs only on a miss, and what it raises (a 404) is never kept. The version is read
    first, so a page computed during a change is filed under the version before it."""
    ttl = settings.ORDER_HISTORY_CACHE_TTL
    if ttl <= 0:
        return _json(JSONRenderer().render(compute()))
    version = history_version(user_id=user_id)
    key = f"orders:history:{user_id}:{version}:{hashlib.sha256(address.encode()).hexdigest()}"
    pages = caches["history"]
    body = pages.get(key)
    if body is None:
        body = JSONRenderer().render(compute())
        if len(body) <= MAX_PAGE_BYTES:
            pages.set(key, body, timeout=ttl)
    return _json(body)


def _json(body: bytes) -> HttpResponse:
    return HttpResponse(body, content_type="application/json")
