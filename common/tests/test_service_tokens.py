"""A worker's own service tokens, fetched as it starts (shop_common.server, as each worker loads the application) instead of by
its first request to another service, without ever holding up or failing the worker."""

import threading
import time

import httpx
import pytest

from shop_common import server
from shop_common.breaker import CLOSED
from shop_common.service_client import service_client
from shop_common.service_tokens import service_token, warm_service_tokens
from shop_common.testing.waiting import eventually


@pytest.fixture
def scopes(settings):
    settings.SERVICE_TOKEN_SCOPES = ("internal", "introspection")
    settings.SERVICE_TOKEN_WARMUP_SECONDS = 5
    return settings.SERVICE_TOKEN_SCOPES


def warmup_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "service-token-warmup"]


def test_a_starting_worker_fetches_its_tokens_in_the_background(user_service, scopes):
    server.warm_service_tokens_in_background()
    for thread in warmup_threads():
        thread.join(timeout=10)

    assert user_service.token.call_count == 2
    assert service_token("internal")
    assert service_token("introspection")
    assert user_service.token.call_count == 2, "the first request fetched again"


def test_a_worker_without_scopes_starts_no_warmup(user_service, settings):
    settings.SERVICE_TOKEN_SCOPES = ()

    server.warm_service_tokens_in_background()

    assert warmup_threads() == []
    assert user_service.health.call_count == 0


def test_a_user_service_still_starting_is_waited_for_without_opening_the_breaker(
    user_service, settings
):
    settings.SERVICE_BREAKER_FAILURES = 2
    user_service.down = True
    outcome = {}
    warmup = threading.Thread(
        target=lambda: outcome.update(
            fetched=warm_service_tokens(["internal"], within=10, pause=0.02)
        )
    )
    warmup.start()
    eventually(lambda: user_service.health.call_count, lambda calls: calls >= 5, interval=0.01)

    user_service.down = False
    warmup.join(timeout=10)

    assert user_service.health.call_count >= 5
    assert outcome == {"fetched": True}
    assert user_service.token.call_count == 1
    assert service_client("user").breaker.state == CLOSED


def test_a_user_service_that_does_not_come_is_given_up_on_in_time(user_service):
    user_service.down = True
    started = time.monotonic()

    fetched = warm_service_tokens(["internal"], within=0.3, pause=0.05)

    assert fetched is False
    assert time.monotonic() - started < 2
    assert user_service.token.call_count == 0
    assert service_client("user").breaker.state == CLOSED


def test_a_refused_client_secret_is_asked_once_and_not_again(user_service):
    # Each refusal counts towards the client's failed-secret throttle at the user service.
    user_service.token.side_effect = lambda request: httpx.Response(401, json={})

    fetched = warm_service_tokens(["internal", "introspection"], within=5, pause=0.01)

    assert fetched is False
    assert user_service.token.call_count == 1
