"""Refunds staff make in the payment admin: the form (amount or everything, reason), a page that
shows what will be refunded, then the refund through the same service as the API; STAFF and
ADMIN only, CSRF protected, a double submit is one refund, the outcome shown as an admin message.
(tests/e2e/test_admin_browser.py does the same in headless Chromium.)"""

import re
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group, Permission, User
from django.test import Client

from payments.models import Payment, PaymentStatus, Refund, RefundStatus
from payments.tests.support import reconcile

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_browser(admin_browser_as):
    return admin_browser_as("STAFF", "cashier@shop.test", "cashier-pass-123")


@pytest.fixture
def paid(customer, order_service, sandbox) -> Payment:
    """A payment paid at the sandbox's checkout (its outcome learnt by reconciliation: the
    sandbox's webhooks go nowhere in this suite)."""
    order_id = order_service.add(user_id=41, total="53.20")
    answer = customer.post("/service/", {"order_id": order_id}).json()
    sandbox.finish(answer["provider_reference"], "pay")
    reconcile()
    payment = Payment.objects.get(pk=answer["payment_id"])
    assert payment.status == PaymentStatus.SUCCEEDED
    return payment


def refund_page(payment: Payment) -> str:
    return f"/admin/payments/payment/{payment.pk}/refund/"


def form_key(page: str) -> str:
    return re.search(r'name="key" value="([0-9a-f]+)"', page).group(1)


def messages_of(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


def test_staff_refund_part_of_a_payment_after_seeing_what_will_be_refunded(
    staff_browser, paid, sandbox, user_service
):
    change = staff_browser.get(f"/admin/payments/payment/{paid.pk}/change/").content.decode()
    assert refund_page(paid) in change, "the payment's page links to the refund"
    form = staff_browser.get(refund_page(paid)).content.decode()
    assert 'left to refund <strong id="left">53.20 USD</strong>' in form
    key = form_key(form)

    review = staff_browser.post(
        refund_page(paid), {"amount": "10.00", "reason": "scratched lid", "key": key, "review": 1}
    )

    shown = review.content.decode()
    assert "Refund 10.00 USD?" in shown
    assert "43.20 USD will be left to refund" in shown
    assert not Refund.objects.exists(), "nothing is refunded before the confirmation"
    confirm = {"amount": "10.00", "reason": "scratched lid", "key": key, "confirm": 1}
    sent_before = len(sandbox.received)

    done = staff_browser.post(refund_page(paid), confirm, follow=True)
    again = staff_browser.post(refund_page(paid), confirm, follow=True)

    refund = Refund.objects.get()
    assert (refund.amount, refund.reason, refund.status) == (
        Decimal("10.00"),
        "scratched lid",
        RefundStatus.PENDING,
    )
    staff_id = next(iter(user_service.sessions.values()))["user"]["id"]
    assert (refund.requested_by, refund.request_key) == (f"staff:{staff_id}", f"admin:{key}")
    assert done.redirect_chain[-1][0] == f"/admin/payments/payment/{paid.pk}/change/"
    assert messages_of(done) == [
        f"Refund {refund.pk} of 10.00 USD sent to stripe (PENDING); the provider's webhook "
        "confirms it."
    ]
    assert messages_of(again) == [
        f"This refund was made already (refund {refund.pk}, 10.00 USD, PENDING): nothing was "
        "sent again."
    ]
    refunds_sent = [r for r in sandbox.received[sent_before:] if "refund" in r.get("path", "")]
    assert len(refunds_sent) == 1, "the double submit sent one refund"


def test_an_empty_amount_refunds_everything_left(staff_browser, paid):
    key = form_key(staff_browser.get(refund_page(paid)).content.decode())

    review = staff_browser.post(refund_page(paid), {"reason": "lost", "key": key, "review": 1})
    staff_browser.post(
        refund_page(paid), {"amount": "53.20", "reason": "lost", "key": key, "confirm": 1}
    )

    assert "Refund 53.20 USD?" in review.content.decode()
    assert "0.00 USD will be left to refund" in review.content.decode()
    assert Refund.objects.get().amount == Decimal("53.20")


def test_more_than_is_left_is_refused_on_the_form(staff_browser, paid):
    key = form_key(staff_browser.get(refund_page(paid)).content.decode())

    review = staff_browser.post(
        refund_page(paid), {"amount": "53.21", "reason": "x", "key": key, "review": 1}
    )

    assert "At most 53.20: what is left to refund." in review.content.decode()
    assert not Refund.objects.exists()


def test_an_error_of_the_refund_is_an_admin_message(staff_browser, paid, settings):
    settings.STRIPE_API_BASE = "http://127.0.0.1:9"  # the provider does not answer

    done = staff_browser.post(
        refund_page(paid),
        {"amount": "5.00", "reason": "x", "key": "k1", "confirm": 1},
        follow=True,
    )

    (message,) = messages_of(done)
    assert message.startswith("No refund: The stripe")
    assert Refund.objects.get().status == RefundStatus.REQUESTED, "sent again by reconciliation"


def test_a_payment_with_nothing_to_refund_has_no_refund(staff_browser, customer, order_id, sandbox):
    answer = customer.post("/service/", {"order_id": order_id}).json()
    pending = Payment.objects.get(pk=answer["payment_id"])

    change = staff_browser.get(f"/admin/payments/payment/{pending.pk}/change/").content.decode()
    refused = staff_browser.get(refund_page(pending), follow=True)

    assert refund_page(pending) not in change
    assert messages_of(refused) == [
        f"Payment {pending.pk} is PENDING: nothing captured is left to refund."
    ]
    assert not Refund.objects.exists()


def test_the_confirmation_needs_the_csrf_token(staff_browser, paid):
    browser = Client(enforce_csrf_checks=True)
    browser.cookies = staff_browser.cookies

    forged = browser.post(
        refund_page(paid), {"amount": "5.00", "reason": "x", "key": "k2", "confirm": 1}
    )

    assert forged.status_code == 403
    assert not Refund.objects.exists()


def test_an_admin_user_without_the_refund_permission_is_refused(staff_browser, paid):
    """Only the refund permission opens the page (STAFF have it through their group, ADMIN as
    superuser); here the group lost it."""
    Group.objects.get(name="Payment staff").permissions.remove(
        Permission.objects.get(codename="refund_payment")
    )

    change = staff_browser.get(f"/admin/payments/payment/{paid.pk}/change/")
    page = staff_browser.get(refund_page(paid))
    posted = staff_browser.post(
        refund_page(paid), {"amount": "5.00", "reason": "x", "key": "k3", "confirm": 1}
    )

    assert change.status_code == 200
    assert refund_page(paid) not in change.content.decode()
    assert (page.status_code, posted.status_code) == (403, 403)
    assert not Refund.objects.exists()


def test_staff_and_admin_hold_the_refund_permission(staff_browser, admin_browser_as):
    admin_browser_as("ADMIN", "boss@shop.test", "boss-pass-123")

    for email in ("cashier@shop.test", "boss@shop.test"):
        assert User.objects.get(username=email).has_perm("payments.refund_payment")
