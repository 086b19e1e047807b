"""Paying for an order end to end: order service → payment service → official Stripe SDK → the
offline sandbox's hosted page → signed webhook → payment service → order service → product stock."""

import os
import re
import signal

import httpx
import pytest

from shop_common.testing.data import ADDRESS
from shop_common.testing.waiting import eventually
from tests.e2e.browser import ARTIFACTS, needs_chromium
from tests.e2e.helpers import bearer, wait_for_order_status


@pytest.fixture
def product(new_product):
    return new_product(price="20.00", quantity=10)


def placed_order_with_checkout(
    stack, token: str, product: dict, quantity: int, gateway: str | None = None
) -> tuple[dict, dict]:
    placed = httpx.post(
        f"{stack.url('order')}/orders/",
        json={
            "items": [{"product_id": product["id"], "quantity": quantity}],
            "shipping_address": ADDRESS,
        },
        headers=bearer(token),
    )
    assert placed.status_code == 201, placed.text
    order = placed.json()
    payment = httpx.post(
        f"{stack.url('payment')}/service/",
        json={
            "order_id": order["id"],
            "total_amount": "0.01",
            **({"gateway": gateway} if gateway else {}),
        },
        headers=bearer(token),
    )
    assert payment.status_code == 201, payment.text
    return order, payment.json()


def stock(stack, token: str, product_id: int) -> tuple[int, int]:
    answer = httpx.get(
        f"{stack.url('product')}/products/{product_id}/", headers=bearer(token)
    ).json()
    return answer["quantity"], answer["available"]


def test_paying_on_the_hosted_page_marks_the_order_paid_and_commits_the_stock(
    stack, token_of, product
):
    customer = token_of("CUSTOMER")
    order, payment = placed_order_with_checkout(stack, customer, product, 3)
    assert payment["amount"] == order["total_amount"] == "74.80"  # 60.00 + 4.80 tax + 10.00

    page = httpx.get(payment["checkout_url"])
    assert page.status_code == 200
    assert "74.80 USD" in page.text
    paid = httpx.post(f"{payment['checkout_url']}/pay")
    assert paid.status_code == 303
    assert paid.headers["location"].startswith(f"{stack.url('payment')}/payments/success/")

    assert wait_for_order_status(stack, customer, order["id"], "PAID")["status"] == "PAID"
    assert stock(stack, token_of("STAFF"), product["id"]) == (7, 7)
    settled = httpx.get(
        f"{stack.url('payment')}/payments/{payment['payment_id']}/", headers=bearer(customer)
    ).json()
    assert settled["status"] == "SUCCEEDED"
    sent = httpx.get(f"{stack.url('stripe-sandbox')}/_sandbox/requests").json()
    # The checkout creations (the log also holds refunds that earlier tests on the stack sent).
    checkouts = [r for r in sent["received"] if "line_items" in r]
    assert any(r["line_items"][0]["price_data"]["unit_amount"] == "7480" for r in checkouts)


def test_declining_cancels_the_order_and_releases_the_stock(stack, token_of, product):
    customer = token_of("CUSTOMER")
    order, payment = placed_order_with_checkout(stack, customer, product, 4)
    assert stock(stack, token_of("STAFF"), product["id"]) == (10, 6)

    httpx.post(f"{payment['checkout_url']}/decline")

    assert wait_for_order_status(stack, customer, order["id"], "CANCELLED")["status"] == "CANCELLED"
    # The order is cancelled first, its stock released right after.
    assert eventually(
        lambda: stock(stack, token_of("STAFF"), product["id"]), lambda units: units == (10, 10)
    ) == (10, 10)


def test_a_second_initiation_returns_the_same_checkout(stack, token_of, product):
    customer = token_of("CUSTOMER")
    order, payment = placed_order_with_checkout(stack, customer, product, 1)

    again = httpx.post(
        f"{stack.url('payment')}/payment/service/",
        json={"order_id": order["id"]},
        headers=bearer(customer),
    )

    assert again.status_code == 200
    assert again.json()["checkout_url"] == payment["checkout_url"]


def test_paying_a_razorpay_link_marks_the_order_paid(stack, token_of, product):
    customer = token_of("CUSTOMER")
    order, payment = placed_order_with_checkout(stack, customer, product, 2, "razorpay")
    assert (payment["gateway"], payment["amount"]) == ("razorpay", order["total_amount"])

    page = httpx.get(payment["checkout_url"])
    assert f"{order['total_amount']} USD" in page.text
    declined = httpx.post(f"{payment['checkout_url']}/decline")
    assert declined.status_code == 200  # a failed attempt: the link stays open
    paid = httpx.post(f"{payment['checkout_url']}/pay")
    assert paid.status_code == 303
    assert "razorpay_payment_link_id=plink_" in paid.headers["location"]

    assert wait_for_order_status(stack, customer, order["id"], "PAID")["status"] == "PAID"
    sent = httpx.get(f"{stack.url('razorpay-sandbox')}/_sandbox/requests").json()
    delivered = {(d["type"], d["delivered"]) for d in sent["deliveries"]}
    assert {("payment.failed", True), ("payment_link.paid", True)} <= delivered


def test_another_gateway_while_a_checkout_is_open_is_a_409(stack, token_of, product):
    customer = token_of("CUSTOMER")
    order, payment = placed_order_with_checkout(stack, customer, product, 1, "razorpay")

    other = httpx.post(
        f"{stack.url('payment')}/service/",
        json={"order_id": order["id"], "gateway": "stripe"},
        headers=bearer(customer),
    )

    assert other.status_code == 409
    assert other.json()["error"]["details"]["checkout_url"] == payment["checkout_url"]


@needs_chromium
@pytest.mark.parametrize(
    ("gateway", "landing"),
    [("stripe", r"\?session_id=cs_test_"), ("razorpay", r"\?razorpay_payment_id=pay_")],
)
def test_a_person_pays_in_chromium_on_the_sandbox_page(
    stack, token_of, product, browser, gateway, landing
):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as shown
    from selenium.webdriver.support.ui import WebDriverWait

    customer = token_of("CUSTOMER")
    order, payment = placed_order_with_checkout(stack, customer, product, 1, gateway)

    browser.get(payment["checkout_url"])
    browser.find_element(By.ID, "pay").click()
    heading = WebDriverWait(browser, 20).until(
        shown.presence_of_element_located((By.ID, "outcome"))
    )
    browser.save_screenshot(str(ARTIFACTS / f"payment-success-{gateway}.png"))

    assert heading.text == "Thank you"
    assert re.search(rf"/payments/success/{landing}", browser.current_url)
    assert wait_for_order_status(stack, customer, order["id"], "PAID")["status"] == "PAID"


def payment_of(stack, token: str, payment_id: int) -> dict:
    return httpx.get(f"{stack.url('payment')}/payments/{payment_id}/", headers=bearer(token)).json()


def wait_for_payment(stack, token: str, payment_id: int, status: str) -> dict:
    payment = eventually(  # the sandbox delivers the webhook a moment later
        lambda: payment_of(stack, token, payment_id),
        lambda payment: payment["status"] == status,
        timeout=30,
    )
    assert payment["status"] == status, payment
    return payment


@pytest.mark.parametrize("gateway", ["stripe", "razorpay"])
def test_staff_refund_part_then_all_through_each_gateway(stack, token_of, product, gateway):
    customer, staff = token_of("CUSTOMER"), token_of("STAFF")
    order, payment = placed_order_with_checkout(stack, customer, product, 1, gateway)
    httpx.post(f"{payment['checkout_url']}/pay")
    wait_for_order_status(stack, customer, order["id"], "PAID")

    def refund(key: str, **body) -> httpx.Response:
        return httpx.post(
            f"{stack.url('payment')}/payments/{payment['payment_id']}/refund/",
            json={"reason": "e2e", **body},
            headers={**bearer(staff), "Idempotency-Key": f"{key}-{payment['payment_id']}"},
        )

    partial = refund("part", amount="10.00")
    assert partial.status_code == 201, partial.text
    assert refund("part", amount="10.00").status_code == 200  # the same key: the same refund
    part = wait_for_payment(stack, staff, payment["payment_id"], "PARTIALLY_REFUNDED")
    assert part["refunded_amount"] == "10.00"
    assert refund("too-much", amount=order["total_amount"]).status_code == 409

    assert refund("rest").status_code == 201
    done = wait_for_payment(stack, staff, payment["payment_id"], "REFUNDED")
    assert done["refunded_amount"] == order["total_amount"]
    assert {r["status"] for r in done["refunds"]} == {"SUCCEEDED"}
    assert wait_for_order_status(stack, customer, order["id"], "REFUNDED")["status"] == "REFUNDED"


def test_a_payment_made_while_the_order_service_is_down_reaches_the_order_when_it_is_back(
    stack, token_of, product
):
    """The webhook is answered 2xx at its first delivery once the payment is saved; the order
    service, killed meanwhile, learns it from the payment service's outbox when it is back, once."""
    customer = token_of("CUSTOMER")
    order, payment = placed_order_with_checkout(stack, customer, product, 2)
    before = {delivery["event_id"] for delivery in stripe_deliveries(stack)}
    order_service = stack.processes["order"]
    os.killpg(order_service.process.pid, signal.SIGKILL)
    order_service.process.wait()
    try:
        assert httpx.post(f"{payment['checkout_url']}/pay").status_code == 303
        settled = wait_for_payment(stack, customer, payment["payment_id"], "SUCCEEDED")
        (delivery,) = eventually(
            lambda: [
                delivery
                for delivery in stripe_deliveries(stack)
                if delivery["event_id"] not in before and delivery["attempts"]
            ],
            bool,
        )
    finally:
        order_service.start()
        order_service.wait_until_healthy()

    assert delivery["type"] == "checkout.session.completed"
    assert delivery["attempts"] == [200], "answered 2xx at once, the order service down"
    assert settled["captured_amount"] == order["total_amount"]
    assert stock(stack, token_of("STAFF"), product["id"]) == (10, 8), "still only reserved"
    assert "0 pending" in stack.manage("payment", "drain_outbox")
    assert wait_for_order_status(stack, customer, order["id"], "PAID")["status"] == "PAID"
    assert stock(stack, token_of("STAFF"), product["id"]) == (8, 8)
    assert "order notice" not in stack.manage("payment", "drain_outbox"), "nothing left to tell"
    track = httpx.get(
        f"{stack.url('order')}/orders/{order['id']}/track/", headers=bearer(customer)
    ).json()
    assert [step["status"] for step in track["status_history"]] == ["PENDING", "PAID"]


def stripe_deliveries(stack) -> list[dict]:
    return httpx.get(f"{stack.url('stripe-sandbox')}/_sandbox/requests").json()["deliveries"]
