"""Payment staff in the Django admin: logging in through the user service (shop_common.staff_admin,
as in the product service), seeing payments, refunds (the automatic ones at a glance) and webhook
events, and changing none of them."""

import pytest
from django.contrib.auth.models import User
from django.core.cache import cache
from django.utils import timezone

from payments.models import (
    OrderNotice,
    Payment,
    PaymentStatus,
    Refund,
    RefundOrigin,
    RefundStatus,
    WebhookEvent,
)
from payments.tests.support import reconcile
from shop_common.staff_admin import SESSION_KEY
from shop_common.testing.fixtures import admin_log_in

pytestmark = pytest.mark.django_db

MONEY_RECORDS = ["payment", "refund", "webhookevent", "ordernotice"]


@pytest.fixture
def staff_browser(admin_browser_as):
    return admin_browser_as("STAFF", "cashier@shop.test", "cashier-pass-123")


@pytest.fixture
def admin_browser(admin_browser_as):
    return admin_browser_as("ADMIN", "boss@shop.test", "boss-pass-123")


@pytest.fixture(params=["stripe", "razorpay"])
def automatically_refunded(request, customer, order_service, sandbox, razorpay_sandbox) -> Payment:
    """A payment that landed on an order cancelled meanwhile and went back by itself, through the
    real code path (the sandbox's checkout paid, its outcome and the refund's learnt by
    reconciliation, the webhooks of this suite going nowhere)."""
    order_id = order_service.add(user_id=41, total="53.20")
    answer = customer.post("/service/", {"order_id": order_id, "gateway": request.param}).json()
    order_service.orders[order_id]["status"] = "CANCELLED"  # expired meanwhile
    if request.param == "stripe":
        sandbox.finish(answer["provider_reference"], "pay")
    else:
        razorpay_sandbox.pay(answer["provider_reference"])

    reconcile()  # paid; the order refuses it: NEEDS_REFUND, the refund sent
    reconcile()  # the refund settled

    payment = Payment.objects.get(pk=answer["payment_id"])
    assert payment.status == PaymentStatus.REFUNDED
    assert payment.refunds.get().automatic
    return payment


def test_staff_log_in_with_their_user_service_password_and_may_only_look(
    staff_browser, user_service
):
    user = User.objects.get(username="cashier@shop.test")

    assert user.is_staff
    assert not user.is_superuser
    assert not user.has_usable_password()
    assert user.groups.filter(name="Payment staff").exists()
    for model in [*MONEY_RECORDS, "paymentstatuschange"]:
        assert user.has_perm(f"payments.view_{model}")
        for action in ("add", "change", "delete"):
            assert not user.has_perm(f"payments.{action}_{model}")
    assert staff_browser.get("/admin/payments/payment/").status_code == 200
    session_id = staff_browser.session[SESSION_KEY]
    assert user_service.sessions[session_id]["active"], "the admin keeps a user-service session"


def test_staff_see_an_automatic_refund_and_who_started_it(staff_browser, automatically_refunded):
    payment = automatically_refunded

    refunds = staff_browser.get("/admin/payments/refund/?started_by=automatic").content.decode()
    payments = staff_browser.get("/admin/payments/payment/?automatic_refund=yes").content.decode()
    detail = staff_browser.get(f"/admin/payments/payment/{payment.pk}/change/").content.decode()
    events = staff_browser.get("/admin/payments/webhookevent/?q=reconcile").content.decode()
    notices = staff_browser.get("/admin/payments/ordernotice/?delivered=yes").content.decode()

    for column in ("Started by", "Gateway", "Amount", "Currency", "Status", "Reason"):
        assert column in refunds
    assert f"payment {payment.pk} of order {payment.order_id}" in refunds
    assert "automatic (payment service)" in refunds
    assert "automatic: order refused the payment" in refunds
    assert payment.gateway in refunds
    assert f"/admin/payments/payment/{payment.pk}/change/" in payments
    assert "Refunded automatically" in payments
    for shown in ("NEEDS_REFUND", "REFUNDED", "automatic (payment service)", "53.20", "USD"):
        assert shown in detail
    assert f"reconcile:{payment.provider_reference}" in events
    assert "payment-succeeded" in notices
    assert "order_not_payable" in notices, "the order service's refusal is on its notice"


def test_staff_filters_tell_automatic_refunds_from_staff_refunds(staff_browser, db):
    payment = Payment.objects.create(
        order_id=5, user_id=41, amount="20.00", currency="USD", gateway="stripe"
    )
    for key, by, automatic, origin in [
        ("automatic:1", "system", True, RefundOrigin.SHOP),
        ("staff:k", "staff:7", False, RefundOrigin.SHOP),
        ("provider:re_1", "provider:stripe", False, RefundOrigin.PROVIDER),
    ]:
        Refund.objects.create(
            payment=payment,
            origin=origin,
            amount="1.00",
            currency="USD",
            reason=f"by {by}",
            request_key=key,
            requested_by=by,
            automatic=automatic,
            status=RefundStatus.SUCCEEDED,
        )

    def listed(started_by: str) -> list[str]:
        page = staff_browser.get(f"/admin/payments/refund/?started_by={started_by}")
        return [
            reason
            for reason in ("by system", "by staff:7", "by provider:stripe")
            if reason in page.content.decode()
        ]

    assert listed("automatic") == ["by system"]
    assert listed("staff") == ["by staff:7"]
    assert listed("provider") == ["by provider:stripe"]
    page = staff_browser.get("/admin/payments/refund/").content.decode()
    assert "staff user 7" in page
    assert "stripe dashboard" in page


@pytest.mark.parametrize("who", ["staff_browser", "admin_browser"])
@pytest.mark.parametrize("model", MONEY_RECORDS)
def test_nobody_adds_changes_or_deletes_money_records(request, who, model, db):
    browser = request.getfixturevalue(who)
    payment = Payment.objects.create(
        order_id=5, user_id=41, amount="20.00", currency="USD", gateway="stripe"
    )
    refund = Refund.objects.create(
        payment=payment,
        amount="1.00",
        currency="USD",
        reason="x",
        request_key="k",
        requested_by="system",
        automatic=True,
    )
    event = WebhookEvent.objects.create(provider="stripe", event_id="evt_1", type="x")
    notice = OrderNotice.objects.create(
        payment=payment, kind=OrderNotice.Kind.PAYMENT_FAILED, next_attempt_at=timezone.now()
    )
    pk = {
        "payment": payment.pk,
        "refund": refund.pk,
        "webhookevent": event.pk,
        "ordernotice": notice.pk,
    }[model]
    base = f"/admin/payments/{model}/"

    listing = browser.get(base)
    detail = browser.get(f"{base}{pk}/change/")

    assert listing.status_code == 200
    assert b'name="action"' not in listing.content, "no bulk action (delete) is offered"
    assert detail.status_code == 200
    assert b'name="_save"' not in detail.content
    assert browser.get(f"{base}add/").status_code == 403
    assert browser.post(f"{base}{pk}/change/", {"amount": "0.01"}).status_code == 403
    assert browser.post(f"{base}{pk}/delete/", {"post": "yes"}).status_code == 403
    payment.refresh_from_db()
    assert payment.amount == 20
    assert Refund.objects.filter(pk=refund.pk, amount="1.00").exists()
    assert WebhookEvent.objects.filter(pk=event.pk).exists()
    assert OrderNotice.objects.filter(pk=notice.pk, done_at=None).exists()


def test_an_admin_becomes_superuser_of_this_admin(admin_browser):
    assert User.objects.get(username="boss@shop.test").is_superuser
    assert admin_browser.get("/admin/payments/refund/").status_code == 200


@pytest.mark.parametrize("who", ["customer", "wrong password"])
def test_customers_and_wrong_logins_are_refused(client, user_service, who):
    user_service.add_login("shopper@shop.test", "shopper-pass-1", "CUSTOMER")
    password = {"customer": "shopper-pass-1", "wrong password": "nope"}[who]

    response = admin_log_in(client, "shopper@shop.test", password)

    assert response.status_code == 200
    assert b"Please enter the correct email and password for a staff account" in response.content
    assert not User.objects.exists()
    assert [state["active"] for state in user_service.sessions.values()] == (
        [False] if who == "customer" else []
    ), "a customer's user-service session is closed again at once"
    assert client.get("/admin/payments/payment/").status_code == 302


def test_the_login_form_asks_for_the_email(client):
    page = client.get("/admin/login/").content.decode()

    assert "Email" in page
    assert "Shop payments" in page


def test_the_admin_session_ends_with_the_user_service_session(staff_browser, user_service):
    session_id = staff_browser.session[SESSION_KEY]
    user_service.sessions[session_id]["user"]["roles"] = ["CUSTOMER"]
    cache.clear()  # what the passing of AUTH_CACHE_TTL seconds (or the stamp, with Redis) does

    response = staff_browser.get("/admin/payments/payment/")

    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


def test_logging_out_of_the_admin_ends_the_user_service_session(staff_browser, user_service):
    session_id = staff_browser.session[SESSION_KEY]

    staff_browser.post("/admin/logout/")

    assert not user_service.sessions[session_id]["active"]


def test_user_service_down_is_a_clear_message_not_a_500(client, user_service):
    user_service.down = True

    response = admin_log_in(client, "cashier@shop.test", "cashier-pass-123")

    assert response.status_code == 200
    assert b"user service cannot be reached" in response.content
