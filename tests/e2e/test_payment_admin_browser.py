"""A staff member refunds part of a paid order in the payment admin, in headless Chromium: the
payment's page, "Refund…", the form (amount, reason), the page that shows what will be refunded,
the confirmation, the admin's message; the same confirmation submitted again by the browser is the
same refund. The screenshots are kept in tests/e2e/artifacts/ (admin-refund-review.png,
admin-refund-done.png)."""

from urllib.parse import quote

import httpx

from shop_common.demo import DEMO_LOGINS
from shop_common.testing.data import ADDRESS
from shop_common.testing.waiting import eventually
from tests.e2e.browser import ARTIFACTS, needs_chromium
from tests.e2e.helpers import bearer, wait_for_order_status

pytestmark = needs_chromium

# The confirmation's form as the browser would send it, sent by the browser itself (its cookies,
# its CSRF token): a second submit of the same page.
RESUBMIT = """
const [fields, done] = arguments;
fetch(window.location.href, {method: "POST", body: new URLSearchParams(fields),
                             credentials: "same-origin"})
  .then(response => response.text()).then(done, error => done(String(error)));
"""
FORM_FIELDS = """
const fields = {};
for (const [name, value] of new FormData(document.querySelector("#content-main form"))) {
  fields[name] = value;
}
fields.confirm = "1";
return fields;
"""


def test_staff_refund_part_of_a_payment_in_the_admin(stack, browser, token_of, new_product):
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
        f"{stack.url('payment')}/service/", json={"order_id": order["id"]}, headers=customer
    ).json()
    httpx.post(f"{payment['checkout_url']}/pay")
    assert wait_for_order_status(stack, token_of("CUSTOMER"), order["id"], "PAID")["status"] == (
        "PAID"
    )
    admin = stack.url("payment")
    wait = WebDriverWait(browser, 20)

    # 1. Log in as the demo STAFF member, straight to the payment's page.
    email, password = DEMO_LOGINS["STAFF"]
    change_path = f"/admin/payments/payment/{payment['payment_id']}/change/"
    browser.get(f"{admin}/admin/login/?next={quote(change_path)}")
    browser.find_element(By.ID, "id_username").send_keys(email)
    browser.find_element(By.ID, "id_password").send_keys(password)
    browser.find_element(By.CSS_SELECTOR, "input[type=submit]").click()
    # 2. "Refund…" on the payment's page.
    wait.until(shown.element_to_be_clickable((By.ID, "refund-link"))).click()
    # 3. The form: 5.00 of what is left, and why.
    left = wait.until(shown.presence_of_element_located((By.ID, "left")))
    assert left.text == f"{order['total_amount']} USD"
    browser.find_element(By.ID, "id_amount").send_keys("5.00")
    browser.find_element(By.ID, "id_reason").send_keys("box arrived dented")
    browser.find_element(By.ID, "review").click()
    # 4. What will be refunded, before anything is.
    title = wait.until(shown.presence_of_element_located((By.ID, "confirm-title")))
    summary = browser.find_element(By.ID, "confirm-summary").text
    browser.save_screenshot(str(ARTIFACTS / "admin-refund-review.png"))
    assert title.text == "Refund 5.00 USD?"
    assert "through stripe" in summary
    assert "box arrived dented" in summary
    assert (
        httpx.get(f"{admin}/payments/{payment['payment_id']}/", headers=staff).json()["refunds"]
        == []
    ), "nothing refunded before the confirmation"
    fields = browser.execute_script(FORM_FIELDS)
    # 5. Confirm: back on the payment's page, with the admin's message.
    browser.find_element(By.ID, "confirm").click()
    done = wait.until(shown.presence_of_element_located((By.CSS_SELECTOR, ".messagelist .success")))
    browser.save_screenshot(str(ARTIFACTS / "admin-refund-done.png"))
    assert "of 5.00 USD sent to stripe" in done.text
    assert browser.current_url.endswith(change_path)
    # 6. The same confirmation again, from the same browser: the same refund.
    browser.get(f"{admin}/admin/payments/payment/{payment['payment_id']}/refund/")
    again = browser.execute_async_script(RESUBMIT, fields)
    assert "This refund was made already" in again

    settled = eventually(
        lambda: httpx.get(f"{admin}/payments/{payment['payment_id']}/", headers=staff).json(),
        lambda answer: answer["status"] == "PARTIALLY_REFUNDED",
        timeout=30,
    )
    assert settled["refunded_amount"] == "5.00"
    ((refund),) = settled["refunds"]
    assert (refund["amount"], refund["origin"], refund["status"], refund["reason"]) == (
        "5.00",
        "shop",
        "SUCCEEDED",
        "box arrived dented",
    )
    assert refund["requested_by"].startswith("staff:")
    assert wait_for_order_status(stack, token_of("CUSTOMER"), order["id"], "PAID")["status"] == (
        "PAID"
    ), "a partial refund leaves the order as it is"
