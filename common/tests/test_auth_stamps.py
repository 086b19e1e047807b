"""Cached validations and the session stamps the user service writes (with a shared cache: at once)."""

import pytest
from django.core.cache import cache
from django.test import Client

from shop_common.auth import mark_sessions_changed


def whoami(client: Client, token: str):
    return client.get("/whoami/", HTTP_AUTHORIZATION=f"Bearer {token}")


@pytest.fixture
def cached(settings):
    settings.AUTH_CACHE_TTL = 300


def session_of(user_service, token: str) -> str:
    return user_service.user_tokens[token]["session_id"]


def test_a_cached_answer_spares_the_user_service(client, user_service, cached):
    token = user_service.token_for("STAFF")

    whoami(client, token)
    whoami(client, token)

    assert user_service.validate.call_count == 1


def test_a_change_stamped_after_caching_is_asked_again(client, user_service, cached):
    token = user_service.token_for("STAFF")
    whoami(client, token)

    user_service.user_tokens[token]["roles"] = ["CUSTOMER"]
    mark_sessions_changed([session_of(user_service, token)], for_seconds=60)

    assert whoami(client, token).json()["roles"] == ["CUSTOMER"]
    assert user_service.validate.call_count == 2


def test_a_change_that_lands_while_the_user_service_answers_is_not_missed(
    client, user_service, cached
):
    token = user_service.token_for("STAFF")
    answer_as_it_was = user_service.validate.side_effect

    def answer_then_change(request):
        response = answer_as_it_was(request)  # the answer still says STAFF ...
        user_service.user_tokens[token]["roles"] = ["CUSTOMER"]  # ... and then the role goes
        mark_sessions_changed([session_of(user_service, token)], for_seconds=60)
        return response

    user_service.validate.side_effect = answer_then_change
    assert whoami(client, token).json()["roles"] == ["STAFF"]
    user_service.validate.side_effect = answer_as_it_was

    assert whoami(client, token).json()["roles"] == ["CUSTOMER"], "the stale answer was kept"


def test_a_cached_answer_and_its_stamp_are_read_in_one_cache_call(
    client, user_service, cached, monkeypatch
):
    """One MGET with Redis, where it was two GETs (issue 14: every authenticated request)."""
    token = user_service.token_for("STAFF")
    whoami(client, token)
    calls, depth = [], [0]

    def counted(name, real):
        def call(*args, **kwargs):
            if not depth[0]:  # the local-memory cache's get_many calls its own get
                calls.append(name)
            depth[0] += 1
            try:
                return real(*args, **kwargs)
            finally:
                depth[0] -= 1

        return call

    for method in ("get", "get_many", "has_key"):
        monkeypatch.setattr(cache, method, counted(method, getattr(cache, method)))

    assert whoami(client, token).json()["roles"] == ["STAFF"]

    assert calls == ["get_many"]
    assert user_service.validate.call_count == 1
