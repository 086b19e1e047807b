"""``manage.py list_routes``: every route this service mounts, as JSON, for the access-table test.

Walks the whole URL resolver (includes too: the Django admin's, django-oauth-toolkit's) and prints
one entry per route: the full pattern as Django shows it (``"products/<id:product_id>/"``,
``"admin/catalog/product/<path:object_id>/change/"``), its view's dotted name and its URL name.
"""

import json
from collections.abc import Iterator
from typing import Any

from django.core.management.base import BaseCommand
from django.urls import URLPattern, URLResolver, get_resolver
from django.urls.resolvers import RegexPattern


def pattern_text(pattern: Any) -> str:
    """One level of a route as text; a regex keeps its groups but loses its ``^`` and ``$``."""
    text = str(pattern)
    if isinstance(pattern, RegexPattern):
        text = text.removeprefix("^").removesuffix("$").removeprefix("\\A").removesuffix("\\Z")
    return text


def view_name(callback: Any) -> str:
    view = getattr(callback, "view_class", None) or getattr(callback, "cls", None) or callback
    module = getattr(view, "__module__", None) or type(view).__module__
    name = getattr(view, "__qualname__", None) or type(view).__qualname__
    return f"{module}.{name}"


def walk(patterns: list[Any], prefix: str = "", namespace: str = "") -> Iterator[dict[str, str]]:
    for entry in patterns:
        text = prefix + pattern_text(entry.pattern)
        if isinstance(entry, URLResolver):
            inner = ":".join(part for part in (namespace, entry.namespace or "") if part)
            yield from walk(entry.url_patterns, text, inner)
        elif isinstance(entry, URLPattern):
            name = f"{namespace}:{entry.name}" if namespace and entry.name else entry.name
            yield {"pattern": text, "view": view_name(entry.callback), "name": name or ""}


def routes() -> list[dict[str, str]]:
    return list(walk(get_resolver().url_patterns))


class Command(BaseCommand):
    help = "Prints every route this service mounts (pattern, view, name) as a JSON list."

    def handle(self, *args: Any, **options: Any) -> None:
        self.stdout.write(json.dumps(routes(), indent=2))
