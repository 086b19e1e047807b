"""Small helpers the end-to-end tests share."""

import base64
import contextlib
import hashlib
import html
import json
import re
import secrets
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlparse

import httpx

from shop_common.testing.environment import stack_environment
from shop_common.testing.stack import Stack
from shop_common.testing.waiting import eventually
from shop_common.topology import SERVICES, Service

REPO_ROOT = Path(__file__).resolve().parents[2]


@contextlib.contextmanager
def running_stack(
    tmp_path_factory,
    name: str,
    *,
    services: Iterable[Service] = SERVICES,
    workers: int = 2,
    settings: Mapping[str, Any] | None = None,
    **env: str,
) -> Iterator[Stack]:
    """``services`` under the server with the demo data, on databases of their own (SQLite files in
    a temporary folder, or ``e2e_<name>_*`` schemas with MySQL), configured by ``env`` alone (and
    the database this run was given: shop_common.testing.environment) and the Django ``settings``
    given (:class:`Stack`); stopped when the block ends."""
    shop = Stack(
        repo_root=REPO_ROOT,
        workdir=tmp_path_factory.mktemp(name),
        services=tuple(services),
        base_env=stack_environment(**env),
        schema_prefix=f"e2e_{name}_",
        demo_data=True,
        workers=workers,
        settings=settings or {},
    )
    try:
        shop.start()
        yield shop
    finally:
        shop.stop()


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def logged(stack: Stack, service: str, request_ids: set[str], timeout: float = 20) -> list[dict]:
    """The JSON lines of ``service``'s log that carry one of ``request_ids``, once each of them
    has its access line: the log is written by a thread of its own, a moment after the answer."""

    def lines() -> list[dict]:
        text = (stack.workdir / f"{service}.log").read_text(errors="replace")
        return [
            record
            for record in (json.loads(line) for line in text.splitlines() if line.startswith("{"))
            if record.get("request_id") in request_ids
        ]

    found = eventually(
        lines,
        lambda records: (
            {r["request_id"] for r in records if r["logger"] == "shop.access"} >= request_ids
        ),
        timeout=timeout,
    )
    answered = {r["request_id"] for r in found if r["logger"] == "shop.access"}
    assert answered >= request_ids, f"{service}: no access line for {request_ids - answered}"
    return found


def wait_for_order_status(
    stack: Stack, token: str, order_id: int, wanted: str, timeout: float = 20
) -> dict:
    """The order once it has ``wanted`` status (a webhook moves it a moment after the page does),
    or as it is after ``timeout`` seconds."""
    return eventually(
        lambda: httpx.get(f"{stack.url('order')}/orders/{order_id}/", headers=bearer(token)).json(),
        lambda order: order["status"] == wanted,
        timeout=timeout,
    )


def csrf_token(html: str) -> str:
    return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1)


def hidden_fields(html: str) -> dict[str, str]:
    return dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', html))


def oauth_user_token(user_url: str, email: str, password: str, *, scope: str) -> str:
    """An OAuth2 access token for a person, by the requests the /oauth/ page's JavaScript and a
    browser make: authorize (log in at /login/, approve), then the code and PKCE verifier."""
    browser = httpx.Client(base_url=user_url)
    page = browser.get("/oauth/")
    assert page.status_code == 200
    # The page hands it to its script in a data attribute (HTML-escaped).
    client_id = html.unescape(re.search(r'data-client-id="([^"]+)"', page.text).group(1))
    redirect_uri = f"{user_url}/oauth/"
    verifier = secrets.token_urlsafe(48)
    challenge = (
        base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    )
    authorize = "/o/authorize/?" + urlencode(
        {
            "response_type": "code",
            "client_id": client_id,
            "redirect_uri": redirect_uri,
            "scope": scope,
            "state": "s1",
            "code_challenge": challenge,
            "code_challenge_method": "S256",
        }
    )
    to_login = browser.get(authorize)
    assert to_login.status_code == 302
    login_page = browser.get(to_login.headers["location"])
    logged_in = browser.post(
        "/login/",
        data={
            "csrfmiddlewaretoken": csrf_token(login_page.text),
            "username": email,
            "password": password,
            "next": authorize,
        },
    )
    assert logged_in.status_code == 302, logged_in.text[-500:]
    consent = browser.get(logged_in.headers["location"])
    assert consent.status_code == 200, consent.text[-1500:]
    approved = browser.post(
        "/o/authorize/",
        data={
            **hidden_fields(consent.text),
            "csrfmiddlewaretoken": csrf_token(consent.text),
            "allow": "Authorize",
        },
    )
    assert approved.status_code == 302
    code = parse_qs(urlparse(approved.headers["location"]).query)["code"][0]
    token = browser.post(
        "/o/token/",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": redirect_uri,
            "client_id": client_id,
            "code_verifier": verifier,
        },
    )
    assert token.status_code == 200, token.text
    return token.json()["access_token"]
