"""Accounts over real HTTP: the token life cycle, and the OAuth page's flow as a browser makes it."""

import uuid

import httpx
import pytest

from tests.e2e.helpers import oauth_user_token

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


def test_a_logout_is_refused_at_once_by_every_worker(user_url):
    # No shared cache here (make run's default): each of the two workers has its own, and a logout
    # handled by one must hold on the other (docs/auth.md, "Validation"). Each call is a new
    # connection, taken by either worker.
    _, tokens = signup_and_login(user_url)
    body = {"token": tokens["access"]}
    before = [httpx.post(f"{user_url}/auth/validate/", json=body).status_code for _ in range(8)]

    httpx.post(f"{user_url}/auth/logout/", headers={"Authorization": f"Bearer {tokens['access']}"})
    after = [httpx.post(f"{user_url}/auth/validate/", json=body).status_code for _ in range(8)]

    assert before == [200] * 8
    assert after == [401] * 8


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


def test_the_oauth_page_flow_gives_a_token_that_validates(user_url):
    """The requests the /oauth/ page's JavaScript and a person's browser make, one by one."""
    email, _ = signup_and_login(user_url)

    token = oauth_user_token(user_url, email, PASSWORD, scope="read write")

    validated = httpx.post(f"{user_url}/auth/validate/", json={"token": token})
    assert validated.status_code == 200
    assert validated.json()["email"] == email
    assert validated.json()["scopes"] == ["read", "write"]
