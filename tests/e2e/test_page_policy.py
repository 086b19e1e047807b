"""Every HTML page sends a Content-Security-Policy, and still works in headless Chromium with it:
no violation in the browser's console, and what the page is for is on the screen (the admins'
login forms, the login and OAuth pages, Swagger UI built by its own script, the payment landing
pages, the provider sandboxes' hosted pages). The flows behind them under the policy:
test_admin_browser.py and test_oauth_browser.py."""

import httpx
import pytest

from tests.e2e.browser import needs_chromium

pytestmark = needs_chromium

# (service, path, an element id the working page shows)
PAGES = [
    ("user", "/admin/login/", "id_username"),
    ("product", "/admin/login/", "id_username"),
    ("payment", "/admin/login/", "id_username"),
    ("user", "/login/", "id_username"),
    ("user", "/oauth/", "start"),
    ("payment", "/payments/success/", "outcome"),
    ("payment", "/payments/cancel/", "outcome"),
    ("product", "/api/docs/", "swagger-ui"),
    ("order", "/api/docs/", "swagger-ui"),
]


def policy_violations(browser) -> list[str]:
    return [
        entry["message"]
        for entry in browser.get_log("browser")
        if "Content Security Policy" in entry["message"] or "Refused to" in entry["message"]
    ]


def shows(browser, element_id: str) -> bool:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as shown
    from selenium.webdriver.support.ui import WebDriverWait

    WebDriverWait(browser, 20).until(shown.presence_of_element_located((By.ID, element_id)))
    return True


@pytest.mark.parametrize(("service", "path", "element_id"), PAGES, ids=lambda v: str(v))
def test_each_page_has_a_policy_and_works_within_it(stack, browser, service, path, element_id):
    url = f"{stack.url(service)}{path}"
    answer = httpx.get(url, timeout=30)
    assert answer.headers["Content-Type"].startswith("text/html")
    assert "script-src 'self'" in answer.headers["Content-Security-Policy"]
    assert answer.headers["X-Frame-Options"] == "DENY"

    browser.get(url)

    assert shows(browser, element_id)
    assert policy_violations(browser) == []


def test_swagger_ui_draws_the_operations_under_the_policy(stack, browser):
    """Its start-up script (a file, not inline) ran: it fetched the schema and drew it."""
    from selenium.webdriver.support.ui import WebDriverWait

    browser.get(f"{stack.url('product')}/api/docs/")

    operations = WebDriverWait(browser, 30).until(
        lambda driver: driver.find_elements("css selector", ".opblock")
    )
    assert operations
    assert policy_violations(browser) == []


def test_the_sandboxes_hosted_pages_work_within_their_policy(stack, browser):
    from selenium.webdriver.common.by import By

    stripe = stack.url("stripe-sandbox")
    session = httpx.post(
        f"{stripe}/v1/checkout/sessions",
        data={
            "mode": "payment",
            "success_url": f"{stack.url('payment')}/payments/success/",
            "line_items[0][price_data][currency]": "usd",
            "line_items[0][price_data][unit_amount]": "1234",
            "line_items[0][quantity]": "1",
        },
        headers={"Authorization": f"Bearer {stack.secrets['STRIPE_SECRET_KEY']}"},
    ).json()
    razorpay = stack.url("razorpay-sandbox")
    link = httpx.post(
        f"{razorpay}/v1/payment_links",
        json={"amount": 1234, "currency": "INR"},
        auth=(stack.secrets["RAZORPAY_KEY_ID"], stack.secrets["RAZORPAY_KEY_SECRET"]),
    ).json()

    for url in (session["url"], link["short_url"]):
        answer = httpx.get(url)
        assert "default-src 'none'" in answer.headers["Content-Security-Policy"]
        browser.get(url)
        assert browser.find_elements(By.TAG_NAME, "form")
        assert policy_violations(browser) == []
