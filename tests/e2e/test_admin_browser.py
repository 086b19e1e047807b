"""Staff in headless Chromium, with their user-service email and password: a catalog staff member
adds a product in the product service's admin and the public API serves it at once; a payment
that landed on a cancelled order goes back by itself and the staff member sees that automatic
refund in the payment service's admin. A customer is refused by both admins. The screenshots are
kept in tests/e2e/artifacts/ (admin-product-created.png, admin-automatic-refund-<gateway>.png)."""

import uuid
from urllib.parse import quote

import httpx
import pytest

from shop_common.demo import DEMO_LOGINS
from shop_common.testing.data import ADDRESS
from shop_common.testing.waiting import eventually
from tests.e2e.browser import ARTIFACTS, needs_chromium
from tests.e2e.helpers import bearer

pytestmark = needs_chromium


def log_in(browser, admin_url: str, next_path: str, role: str) -> None:
    from selenium.webdriver.common.by import By

    email, password = DEMO_LOGINS[role]
    browser.get(f"{admin_url}/admin/login/?next={quote(next_path)}")
    browser.find_element(By.ID, "id_username").send_keys(email)
    browser.find_element(By.ID, "id_password").send_keys(password)
    browser.find_element(By.CSS_SELECTOR, "input[type=submit]").click()


def test_staff_add_a_product_in_the_admin_and_the_api_serves_it(stack, browser):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as shown
    from selenium.webdriver.support.ui import Select, WebDriverWait

    product_url = stack.url("product")
    sku = f"ADMIN-{uuid.uuid4().hex[:8].upper()}"
    wait = WebDriverWait(browser, 20)

    log_in(browser, product_url, "/admin/catalog/product/add/", "STAFF")
    wait.until(shown.presence_of_element_located((By.ID, "id_title"))).send_keys("Browser Kettle")
    browser.find_element(By.ID, "id_sku").send_keys(sku)
    Select(browser.find_element(By.ID, "id_category")).select_by_visible_text("Coffee")
    browser.find_element(By.ID, "id_price").send_keys("42.00")
    stock = browser.find_element(By.ID, "id_stock_on_hand")
    stock.clear()
    stock.send_keys("12")
    assert browser.find_element(By.ID, "id_slug").get_attribute("value") == "browser-kettle"
    browser.find_element(By.NAME, "_save").click()
    wait.until(shown.presence_of_element_located((By.CSS_SELECTOR, ".messagelist .success")))
    browser.save_screenshot(str(ARTIFACTS / "admin-product-created.png"))

    listed = httpx.get(f"{product_url}/products/", params={"q": sku}).json()
    assert listed["count"] == 1
    (product,) = listed["results"]
    assert (product["title"], product["price"], product["quantity"], product["available"]) == (
        "Browser Kettle",
        "42.00",
        12,
        12,
    )


@pytest.mark.parametrize("gateway", ["stripe", "razorpay"])
def test_staff_see_an_automatic_refund_in_the_payment_admin(
    stack, browser, token_of, new_product, gateway
):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as shown
    from selenium.webdriver.support.ui import WebDriverWait

    customer, staff = bearer(token_of("CUSTOMER")), bearer(token_of("STAFF"))
    product = new_product(price="20.00", quantity=5)
    order = httpx.post(
        f"{stack.url('order')}/orders/",
        json={"items": [{"product_id": product["id"], "quantity": 1}], "shipping_address": ADDRESS},
        headers=customer,
    ).json()
    payment = httpx.post(
        f"{stack.url('payment')}/service/",
        json={"order_id": order["id"], "gateway": gateway},
        headers=customer,
    ).json()
    cancelled = httpx.post(f"{stack.url('order')}/orders/{order['id']}/cancel/", headers=customer)
    assert cancelled.json()["status"] == "CANCELLED"
    httpx.post(f"{payment['checkout_url']}/pay")  # the person pays the open checkout anyway
    refunded = eventually(
        lambda: httpx.get(
            f"{stack.url('payment')}/payments/{payment['payment_id']}/", headers=staff
        ).json(),
        lambda answer: answer["status"] == "REFUNDED",
        timeout=30,
    )
    assert refunded["status"] == "REFUNDED", refunded
    assert [(r["automatic"], r["requested_by"]) for r in refunded["refunds"]] == [(True, "system")]

    log_in(browser, stack.url("payment"), "/admin/payments/refund/?started_by=automatic", "STAFF")
    table = WebDriverWait(browser, 20).until(
        shown.presence_of_element_located((By.ID, "result_list"))
    )
    browser.save_screenshot(str(ARTIFACTS / f"admin-automatic-refund-{gateway}.png"))

    row = next(
        row
        for row in table.find_elements(By.CSS_SELECTOR, "tbody tr")
        if f"payment {payment['payment_id']} of order {order['id']}" in row.text
    )
    assert "automatic (payment service)" in row.text
    assert "Succeeded" in row.text  # the refund's status
    assert gateway in row.text
    assert "order refused the payment" in row.text


@pytest.mark.parametrize("service", ["product", "payment"])
def test_a_customer_is_refused_by_the_admin_login(stack, browser, service):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as shown
    from selenium.webdriver.support.ui import WebDriverWait

    log_in(browser, stack.url(service), "/admin/", "CUSTOMER")
    note = WebDriverWait(browser, 20).until(
        shown.presence_of_element_located((By.CSS_SELECTOR, ".errornote"))
    )

    assert "correct email and password for a staff account" in note.text
    assert "/admin/login/" in browser.current_url
