"""The offline Stripe sandbox's own routes, called as a WSGI app (no server, no database)."""

import io
import json

import pytest
from stripe_sandbox.app import application


def call(path: str, method: str = "GET") -> tuple[str, dict]:
    environ = {
        "REQUEST_METHOD": method,
        "PATH_INFO": path,
        "CONTENT_LENGTH": "0",
        "wsgi.input": io.BytesIO(b""),
    }
    answer: dict = {}

    def start(status: str, headers: list[tuple[str, str]]) -> None:
        answer["status"] = status

    body = b"".join(application(environ, start))
    return answer["status"], json.loads(body)


@pytest.mark.parametrize("flag", [None, "False", "0", ""])
@pytest.mark.parametrize("path", ["/_sandbox/requests", "/_sandbox/anything"])
def test_the_sandbox_helper_routes_are_404_unless_turned_on(monkeypatch, flag, path):
    if flag is None:
        monkeypatch.delenv("STRIPE_SANDBOX_DEBUG_ROUTES", raising=False)
    else:
        monkeypatch.setenv("STRIPE_SANDBOX_DEBUG_ROUTES", flag)

    status, body = call(path)

    assert status.startswith("404")
    assert "received" not in body
    assert body["error"]["code"] == "resource_missing"


def test_with_the_flag_on_the_sandbox_shows_what_the_sdk_sent(monkeypatch):
    monkeypatch.setenv("STRIPE_SANDBOX_DEBUG_ROUTES", "True")

    status, body = call("/_sandbox/requests")

    assert status.startswith("200")
    assert set(body) == {"received", "deliveries"}
    assert call("/_sandbox/other")[0].startswith("404")


def test_health_answers_without_the_flag(monkeypatch):
    monkeypatch.delenv("STRIPE_SANDBOX_DEBUG_ROUTES", raising=False)

    assert call("/health/")[0].startswith("200")
