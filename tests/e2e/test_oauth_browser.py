"""A person gets an OAuth token on the /oauth/ page in headless Chromium: the page's own JavaScript
makes the PKCE pair, the person logs in and approves, the page trades the code for a token.
The screenshot of the result is kept in tests/e2e/artifacts/."""

import uuid

import httpx

from tests.e2e.browser import ARTIFACTS, needs_chromium

PASSWORD = "a-long-enough-passphrase-7"

pytestmark = needs_chromium


def test_a_person_gets_a_token_on_the_oauth_page_in_chromium(stack, browser):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as shown
    from selenium.webdriver.support.ui import WebDriverWait

    user_url = stack.url("user")
    email = f"browser-{uuid.uuid4().hex[:8]}@shop.test"
    assert (
        httpx.post(
            f"{user_url}/auth/signup/", json={"email": email, "password": PASSWORD}
        ).status_code
        == 201
    )
    wait = WebDriverWait(browser, 20)

    browser.get(f"{user_url}/oauth/")
    browser.find_element(By.ID, "start").click()
    wait.until(shown.presence_of_element_located((By.ID, "id_username"))).send_keys(email)
    browser.find_element(By.ID, "id_password").send_keys(PASSWORD)
    browser.find_element(By.ID, "login-submit").click()
    wait.until(shown.element_to_be_clickable((By.NAME, "allow"))).click()
    token_box = wait.until(shown.visibility_of_element_located((By.ID, "token")))

    browser.save_screenshot(str(ARTIFACTS / "oauth-token.png"))
    token = token_box.text.strip()
    assert token
    validated = httpx.post(f"{user_url}/auth/validate/", json={"token": token})
    assert validated.status_code == 200
    assert validated.json()["email"] == email
