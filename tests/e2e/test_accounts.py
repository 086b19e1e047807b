"""Accounts over real HTTP: the token life cycle, and the OAuth page's flow as a browser makes it."""

import base64
import hashlib
import json
import re
import secrets
import uuid
from urllib.parse import parse_qs, urlencode, urlparse

import httpx
import pytest

PASSWORD = "a-long-enough-passphrase-7"


@pytest.fixture
def user_url(stack):
    return stack.url("user")


def signup_and_login(user_url: str) -> tuple[str, dict]:
    email = f"e2e-{uuid.uuid4().hex[:10]}@shop.test"
    signup = httpx.post(f"{user_url}/auth/signup/", json={"email": email, "password": PASSWORD})
    assert signup.status_code == 201, signup.text
    login = httpx.post(f"{user_url}/auth/login/", json={"email": email, "password": PASSWORD})
    assert login.status_code == 200, login.text
    return email, login.json()


def test_signup_login_validate_logout_validate(user_url):
    email, tokens = signup_and_login(user_url)
    auth = {"Authorization": f"Bearer {tokens['access']}"}

    validated = httpx.post(f"{user_url}/auth/validate/", json={"token": tokens["access"]})
    legacy = httpx.get(f"{user_url}/auth/validate_token", headers=auth)
    logout = httpx.post(f"{user_url}/auth/logout/", headers=auth)
    after = httpx.post(f"{user_url}/auth/validate/", json={"token": tokens["access"]})
    refresh_after = httpx.post(f"{user_url}/auth/refresh/", json={"refresh": tokens["refresh"]})

    assert validated.status_code == 200
    assert validated.json()["email"] == email
    assert validated.json()["roles"] == ["CUSTOMER"]
    assert legacy.json() == validated.json()
    assert logout.status_code == 204
    assert after.status_code == 401
    assert after.json()["error"]["code"] == "invalid_token"
    assert refresh_after.status_code == 401


def test_refresh_rotation_and_reuse_detection(user_url):
    _, tokens = signup_and_login(user_url)

    rotated = httpx.post(f"{user_url}/auth/refresh/", json={"refresh": tokens["refresh"]})
    reused = httpx.post(f"{user_url}/auth/refresh/", json={"refresh": tokens["refresh"]})
    after = httpx.post(f"{user_url}/auth/validate/", json={"token": rotated.json()["access"]})

    assert rotated.status_code == 200
    assert reused.status_code == 401
    assert after.status_code == 401


def test_a_customer_is_refused_the_user_list_and_sees_only_themself(user_url):
    _, tokens = signup_and_login(user_url)
    auth = {"Authorization": f"Bearer {tokens['access']}"}
    own_id = tokens["user"]["id"]

    assert httpx.get(f"{user_url}/users/", headers=auth).status_code == 403
    assert httpx.get(f"{user_url}/users/{own_id}/", headers=auth).status_code == 200
    assert httpx.get(f"{user_url}/users/{own_id + 100000}/", headers=auth).status_code == 404


def csrf_token(html: str) -> str:
    return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1)


def hidden_fields(html: str) -> dict[str, str]:
    return dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', html))


def test_the_oauth_page_flow_gives_a_token_that_validates(user_url):
    """The requests the /oauth/ page's JavaScript and a person's browser make, one by one."""
    email, _ = signup_and_login(user_url)
    browser = httpx.Client(base_url=user_url)
    page = browser.get("/oauth/")
    assert page.status_code == 200
    # The page writes it as a JavaScript string literal (escapejs): read it as one.
    client_id = json.loads(re.search(r'const clientId = ("[^"]+")', page.text).group(1))
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
            "scope": "read",
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
            "password": PASSWORD,
            "next": authorize,
        },
    )
    assert logged_in.status_code == 302
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
    validated = httpx.post(
        f"{user_url}/auth/validate/", json={"token": token.json()["access_token"]}
    )
    assert validated.status_code == 200
    assert validated.json()["email"] == email
