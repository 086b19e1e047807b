"""A catalog staff member, in headless Chromium, logs in to the product service's admin with their
user-service email and password, adds a product, and the public API serves it at once.
The screenshot is kept in tests/e2e/artifacts/admin-product-created.png."""

import uuid

import httpx

from shop_common.demo import DEMO_LOGINS
from tests.e2e.browser import ARTIFACTS, needs_chromium

pytestmark = needs_chromium


def test_staff_add_a_product_in_the_admin_and_the_api_serves_it(stack, browser):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as shown
    from selenium.webdriver.support.ui import Select, WebDriverWait

    product_url = stack.url("product")
    email, password = DEMO_LOGINS["STAFF"]
    sku = f"ADMIN-{uuid.uuid4().hex[:8].upper()}"
    wait = WebDriverWait(browser, 20)

    browser.get(f"{product_url}/admin/login/?next=/admin/catalog/product/add/")
    browser.find_element(By.ID, "id_username").send_keys(email)
    browser.find_element(By.ID, "id_password").send_keys(password)
    browser.find_element(By.CSS_SELECTOR, "input[type=submit]").click()
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


def test_a_customer_is_refused_by_the_admin_login(stack, browser):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as shown
    from selenium.webdriver.support.ui import WebDriverWait

    email, password = DEMO_LOGINS["CUSTOMER"]
    browser.get(f"{stack.url('product')}/admin/login/")
    browser.find_element(By.ID, "id_username").send_keys(email)
    browser.find_element(By.ID, "id_password").send_keys(password)
    browser.find_element(By.CSS_SELECTOR, "input[type=submit]").click()
    note = WebDriverWait(browser, 20).until(
        shown.presence_of_element_located((By.CSS_SELECTOR, ".errornote"))
    )

    assert "correct email and password for a staff account" in note.text
    assert "/admin/login/" in browser.current_url
