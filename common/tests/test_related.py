"""``known_related`` writes Django's private prefetch cache. These tests compare it with what
``prefetch_related`` itself leaves on an instance, so a Django upgrade that renames or moves those
internals fails here instead of silently costing queries (or answering stale rows) elsewhere."""

import pytest
from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType

from shop_common.related import known_related

pytestmark = pytest.mark.django_db


def _prefetched_by_django() -> ContentType:
    return ContentType.objects.prefetch_related("permission_set").get(
        app_label="auth", model="user"
    )


def test_known_related_fills_the_same_cache_entry_as_prefetch_related():
    fetched = _prefetched_by_django()
    made = ContentType.objects.get(app_label="auth", model="user")
    rows = list(Permission.objects.filter(content_type=made).order_by("content_type", "codename"))

    known_related(made, "permission_set", rows)

    assert set(made._prefetched_objects_cache) == set(fetched._prefetched_objects_cache)
    django_queryset = fetched._prefetched_objects_cache["permission_set"]
    ours = made._prefetched_objects_cache["permission_set"]
    assert django_queryset._prefetch_done is ours._prefetch_done is True
    assert [row.pk for row in ours._result_cache] == [row.pk for row in rows]


def test_the_relation_answers_from_memory_after_known_related(django_assert_num_queries):
    made = ContentType.objects.get(app_label="auth", model="user")
    rows = list(Permission.objects.filter(content_type=made))

    with django_assert_num_queries(0):
        known_related(made, "permission_set", rows)
        assert list(made.permission_set.all()) == rows
        assert made.permission_set.count() == len(rows)
