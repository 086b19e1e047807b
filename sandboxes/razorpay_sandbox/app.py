"""An offline, Razorpay-compatible sandbox for Payment Links (the embedded default and the tests).

It speaks enough of Razorpay's API for the official SDK (``RAZORPAY_API_BASE`` points the payment
service here): create, fetch, list by ``reference_id`` and cancel Payment Links, refund a payment
and list its refunds, with Razorpay's JSON bodies, HTTP Basic key check and error shape
(``{"error": {"code": "BAD_REQUEST_ERROR", "description": ...}}``). It serves the hosted page where a
person clicks Pay or Decline, and delivers the matching event to the payment service's webhook,
signed as Razorpay signs (``X-Razorpay-Signature``: HMAC-SHA256 of the raw body with the webhook
secret; ``X-Razorpay-Event-Id``), retrying until it gets a 2xx.

State lives in this process's memory (one worker, threads). Environment: ``RAZORPAY_KEY_ID`` and
``RAZORPAY_KEY_SECRET`` (the key the API takes; unset: any ``rzp_test_`` key with a secret),
``RAZORPAY_WEBHOOK_SECRET`` (signs events), ``PAYMENT_SERVICE_URL`` (events go to its
``/webhook/razorpay/``), ``RAZORPAY_API_BASE`` (its own address, for the hosted page's link), and
``RAZORPAY_SANDBOX_DEBUG_ROUTES`` (``True``: the unauthenticated ``/_sandbox/`` routes answer).
"""

import base64
import hashlib
import hmac
import html
import json
import re
import secrets
import threading
import time
from typing import Any
from urllib.parse import parse_qsl, urlencode

from sandbox_kit import (
    DELIVERY_RETRY_DELAYS,
    Start,
    deliver,
    flag,
    html_answer,
    json_answer,
    public_url,
    redirect,
    request_parts,
    setting,
    webhook_url,
)

# What the sandbox takes (the payment service's table, plus INR's home): another is refused as
# Razorpay refuses it. Three-decimal currencies must end in 0, as Razorpay asks.
CURRENCY_EXPONENTS = {"JPY": 0, "KWD": 3, "BHD": 3, "OMR": 3}
CURRENCIES = frozenset(
    "AED AUD BHD CAD CHF DKK EUR GBP HKD INR JPY KWD MYR NOK NZD OMR QAR SAR SEK SGD USD".split()  # noqa: SIM905
)


def sign(payload: bytes, secret: str) -> str:
    """Razorpay's webhook signature of ``payload``."""
    return hmac.new(secret.encode(), payload, hashlib.sha256).hexdigest()


def razorpay_error(description: str, field: str | None = None) -> dict[str, Any]:
    return {
        "error": {
            "code": "BAD_REQUEST_ERROR",
            "description": description,
            "source": "business",
            "step": "payment_initiation",
            "reason": "input_validation_failed",
            "metadata": {},
            "field": field,
        }
    }


class Sandbox:
    def __init__(self) -> None:
        self.links: dict[str, dict[str, Any]] = {}
        self.payments: dict[str, dict[str, Any]] = {}
        self.refunds: dict[str, dict[str, Any]] = {}
        self.received: list[dict[str, Any]] = []  # what the SDK sent, for tests
        self.deliveries: list[dict[str, Any]] = []
        self.hold_events = False  # tests: keep events back until release_events()
        self.held: list[dict[str, Any]] = []
        self.lock = threading.RLock()
        self.retry_delays = list(DELIVERY_RETRY_DELAYS)

    # --- the API ------------------------------------------------------------------------------

    def create_link(self, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        with self.lock:
            self.received.append({"path": "/v1/payment_links", **params})
            amount, currency = params.get("amount"), params.get("currency", "INR")
            if isinstance(amount, bool) or not isinstance(amount, int) or amount < 1:
                return 400, razorpay_error("The amount must be an integer.", "amount")
            if currency not in CURRENCIES:
                return 400, razorpay_error("Currency is not supported", "currency")
            if CURRENCY_EXPONENTS.get(currency) == 3 and amount % 10:
                return 400, razorpay_error(
                    "For three-decimal currencies the last digit of the amount must be 0.", "amount"
                )
            reference = params.get("reference_id") or ""
            if reference and any(link["reference_id"] == reference for link in self.links.values()):
                return 400, razorpay_error(
                    f"Payment Link with reference id {reference} already exists", "reference_id"
                )
            link_id = f"plink_{secrets.token_hex(7)}"
            public = public_url("razorpay", "http://127.0.0.1:12112")
            now = int(time.time())
            link = {
                "id": link_id,
                "entity": "payment_link",
                "accept_partial": bool(params.get("accept_partial")),
                "amount": amount,
                "amount_paid": 0,
                "currency": currency,
                "description": params.get("description", ""),
                "reference_id": reference,
                "notes": params.get("notes") or [],
                "callback_url": params.get("callback_url") or "",
                "callback_method": params.get("callback_method") or "",
                "short_url": f"{public}/l/{link_id}",
                "status": "created",
                "payments": None,
                "created_at": now,
                "updated_at": now,
                "expire_by": int(params.get("expire_by") or 0),
                "user_id": "",
            }
            self.links[link_id] = link
            return 200, link

    def list_links(self, query: dict[str, str]) -> dict[str, Any]:
        with self.lock:
            links = [
                link
                for link in self.links.values()
                if "reference_id" not in query or link["reference_id"] == query["reference_id"]
            ]
        return {"payment_links": links}

    def cancel_link(self, link_id: str) -> tuple[int, dict[str, Any]]:
        with self.lock:
            link = self.links[link_id]
            if link["status"] not in ("created", "partially_paid"):
                return 400, razorpay_error(
                    f"Payment Link cannot be cancelled: it is {link['status']}"
                )
            link.update(status="cancelled", updated_at=int(time.time()))
            self._emit("payment_link.cancelled", {"payment_link": {"entity": dict(link)}})
            return 200, link

    def pay(self, link_id: str) -> dict[str, Any]:
        """A person paid on the hosted page: the link is paid, a captured payment exists."""
        with self.lock:
            link = self.links[link_id]
            if link["status"] != "created":
                return link
            payment = self._payment(link, "captured")
            link.update(
                status="paid",
                amount_paid=link["amount"],
                payments=[
                    {
                        "amount": link["amount"],
                        "created_at": payment["created_at"],
                        "method": "card",
                        "payment_id": payment["id"],
                        "plink_id": link_id,
                        "status": "captured",
                        "updated_at": payment["created_at"],
                    }
                ],
                updated_at=int(time.time()),
            )
            self._emit(
                "payment_link.paid",
                {
                    "payment_link": {"entity": dict(link)},
                    "payment": {"entity": dict(payment)},
                    "order": {"entity": {"id": payment["order_id"], "entity": "order"}},
                },
            )
            return link

    def decline(self, link_id: str) -> dict[str, Any]:
        """An attempt failed (the card was declined): the link stays open, as on Razorpay."""
        with self.lock:
            link = self.links[link_id]
            if link["status"] == "created":
                payment = self._payment(link, "failed")
                self._emit("payment.failed", {"payment": {"entity": dict(payment)}})
            return link

    def _payment(self, link: dict[str, Any], status: str) -> dict[str, Any]:
        payment = {
            "id": f"pay_{secrets.token_hex(7)}",
            "entity": "payment",
            "amount": link["amount"],
            "currency": link["currency"],
            "status": status,
            "order_id": f"order_{secrets.token_hex(7)}",
            "method": "card",
            "amount_refunded": 0,
            "refund_status": None,
            "captured": status == "captured",
            "notes": link["notes"],
            "error_code": None if status == "captured" else "BAD_REQUEST_ERROR",
            "error_description": None if status == "captured" else "Card declined (sandbox).",
            "created_at": int(time.time()),
        }
        self.payments[payment["id"]] = payment
        return payment

    def refund(self, payment_id: str, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        with self.lock:
            self.received.append({"path": f"/v1/payments/{payment_id}/refund", **params})
            payment = self.payments.get(payment_id)
            if payment is None:
                return 400, razorpay_error("The id provided does not exist", "id")
            if payment["status"] not in ("captured", "refunded"):
                return 400, razorpay_error("The payment has not been captured", "id")
            amount = params.get("amount", payment["amount"] - payment["amount_refunded"])
            if isinstance(amount, bool) or not isinstance(amount, int) or amount < 1:
                return 400, razorpay_error("The amount must be an integer.", "amount")
            if amount > payment["amount"] - payment["amount_refunded"]:
                return 400, razorpay_error(
                    "The refund amount provided is greater than amount captured", "amount"
                )
            payment["amount_refunded"] += amount
            payment["refund_status"] = (
                "full" if payment["amount_refunded"] == payment["amount"] else "partial"
            )
            if payment["refund_status"] == "full":
                payment["status"] = "refunded"
            refund = {
                "id": f"rfnd_{secrets.token_hex(7)}",
                "entity": "refund",
                "amount": amount,
                "currency": payment["currency"],
                "payment_id": payment_id,
                "notes": params.get("notes") or [],
                "receipt": params.get("receipt"),
                "status": "processed",
                "speed_processed": "normal",
                "created_at": int(time.time()),
            }
            self.refunds[refund["id"]] = refund
            self._emit(
                "refund.processed",
                {"refund": {"entity": dict(refund)}, "payment": {"entity": dict(payment)}},
            )
            return 200, refund

    # --- webhook delivery ---------------------------------------------------------------------

    def _emit(self, kind: str, payload: dict[str, Any]) -> None:
        event = {
            "entity": "event",
            "account_id": "acc_sandbox",
            "event": kind,
            "contains": sorted(payload),
            "payload": payload,
            "created_at": int(time.time()),
        }
        event_id = f"evt_{secrets.token_hex(8)}"
        if self.hold_events:
            self.held.append({"id": event_id, "event": event})
            return
        threading.Thread(target=self.deliver, args=(event_id, event), daemon=True).start()

    def release_events(self) -> int:
        with self.lock:
            self.hold_events = False
            held, self.held = self.held, []
        for item in held:
            threading.Thread(
                target=self.deliver, args=(item["id"], item["event"]), daemon=True
            ).start()
        return len(held)

    def deliver(self, event_id: str, event: dict[str, Any]) -> None:
        payload = json.dumps(event).encode()
        record = {"event_id": event_id, "type": event["event"], "attempts": [], "delivered": False}
        with self.lock:
            self.deliveries.append(record)
        secret = setting("RAZORPAY_WEBHOOK_SECRET", "")
        deliver(
            webhook_url("razorpay"),
            payload,
            lambda: {
                "X-Razorpay-Signature": sign(payload, secret),
                "X-Razorpay-Event-Id": event_id,
            },
            delays=self.retry_delays,
            record=record,
        )


def callback_signature(link: dict[str, Any], payment_id: str, secret: str) -> str:
    """What Razorpay signs on the redirect (the SDK's ``verify_payment_link_signature`` checks it)."""
    message = f"{link['id']}|{link['reference_id']}|{link['status']}|{payment_id}"
    return hmac.new(secret.encode(), message.encode(), hashlib.sha256).hexdigest()


def minor_to_text(amount: int, currency: str) -> str:
    places = CURRENCY_EXPONENTS.get(currency, 2)
    return f"{amount / 10**places:.{places}f}"


PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Sandbox payment link</title>
<style>body{{font-family:system-ui,sans-serif;max-width:32rem;margin:4rem auto;padding:0 1rem}}
.amount{{font-size:2rem;margin:1rem 0}} button{{font-size:1rem;padding:.6rem 1.4rem;margin-right:1rem;cursor:pointer}}
.note{{color:#666;font-size:.9rem}}</style></head><body>
<h1>Sandbox payment link</h1><p class="note">An offline stand-in for Razorpay Payment Links. No card is charged.</p>
<p class="amount" id="amount">{amount} {currency}</p><p>{description}</p>
{body}</body></html>"""


def page(link: dict[str, Any], message: str = "") -> str:
    if link["status"] == "created":
        body = (
            (f'<p id="message">{html.escape(message)}</p>' if message else "")
            + f'<form method="post" action="/l/{link["id"]}/pay" style="display:inline">'
            '<button id="pay" type="submit">Pay</button></form>'
            f'<form method="post" action="/l/{link["id"]}/decline" style="display:inline">'
            '<button id="decline" type="submit">Decline</button></form>'
        )
    else:
        body = f'<p id="state">This payment link is {html.escape(link["status"])}.</p>'
    return PAGE.format(
        amount=minor_to_text(link["amount"], link["currency"]),
        currency=html.escape(link["currency"]),
        description=html.escape(link.get("description") or ""),
        body=body,
    )


SANDBOX = Sandbox()


def _authorized(environ: dict[str, Any]) -> bool:
    header = environ.get("HTTP_AUTHORIZATION", "")
    if not header.startswith("Basic "):
        return False
    try:
        key_id, _, key_secret = base64.b64decode(header[6:]).decode().partition(":")
    except (ValueError, UnicodeDecodeError):
        return False
    want_id, want_secret = setting("RAZORPAY_KEY_ID", ""), setting("RAZORPAY_KEY_SECRET", "")
    if want_id:
        return hmac.compare_digest(key_id, want_id) and hmac.compare_digest(key_secret, want_secret)
    return key_id.startswith("rzp_test_") and bool(key_secret)


def application(environ: dict[str, Any], start: Start) -> list[bytes]:
    method, path, body = request_parts(environ)

    if path in ("/health", "/health/"):
        return json_answer(start, 200, {"service": "razorpay-sandbox", "status": "ok"})
    if path.startswith("/_sandbox/"):
        if flag("RAZORPAY_SANDBOX_DEBUG_ROUTES"):
            if path == "/_sandbox/requests":
                return json_answer(
                    start, 200, {"received": SANDBOX.received, "deliveries": SANDBOX.deliveries}
                )
            if path == "/_sandbox/hold-events" and method == "POST":
                SANDBOX.hold_events = True
                return json_answer(start, 200, {"holding": True})
            if path == "/_sandbox/release-events" and method == "POST":
                return json_answer(start, 200, {"released": SANDBOX.release_events()})
        return json_answer(start, 404, razorpay_error("The requested URL was not found."))

    if path.startswith("/v1/"):
        if not _authorized(environ):
            return json_answer(start, 401, razorpay_error("Authentication failed"))
        try:
            params = json.loads(body) if body else {}
        except ValueError:
            return json_answer(start, 400, razorpay_error("The request body is not JSON."))
        if not isinstance(params, dict):
            return json_answer(start, 400, razorpay_error("The request body is not an object."))
        if path == "/v1/payment_links":
            if method == "POST":
                return json_answer(start, *SANDBOX.create_link(params))
            if method == "GET":
                query = dict(parse_qsl(environ.get("QUERY_STRING", "")))
                return json_answer(start, 200, SANDBOX.list_links(query))
        match = re.fullmatch(r"/v1/payment_links/(plink_[0-9a-f]+)(/cancel)?", path)
        if match and match.group(1) in SANDBOX.links:
            if method == "GET" and not match.group(2):
                return json_answer(start, 200, SANDBOX.links[match.group(1)])
            if method == "POST" and match.group(2):
                return json_answer(start, *SANDBOX.cancel_link(match.group(1)))
        match = re.fullmatch(r"/v1/payments/(pay_[0-9a-f]+)(/refund|/refunds)?", path)
        if match:
            if method == "POST" and match.group(2) == "/refund":
                return json_answer(start, *SANDBOX.refund(match.group(1), params))
            if method == "GET" and match.group(2) == "/refunds":
                items = [r for r in SANDBOX.refunds.values() if r["payment_id"] == match.group(1)]
                return json_answer(
                    start, 200, {"entity": "collection", "count": len(items), "items": items}
                )
            if method == "GET" and not match.group(2) and match.group(1) in SANDBOX.payments:
                return json_answer(start, 200, SANDBOX.payments[match.group(1)])
        match = re.fullmatch(r"/v1/refunds/(rfnd_[0-9a-f]+)", path)
        if match and method == "GET" and match.group(1) in SANDBOX.refunds:
            return json_answer(start, 200, SANDBOX.refunds[match.group(1)])
        return json_answer(
            start, 400, razorpay_error("The requested URL was not found on the server.")
        )

    match = re.fullmatch(r"/l/(plink_[0-9a-f]+)(?:/(pay|decline))?", path)
    if match and match.group(1) in SANDBOX.links:
        link_id, action = match.groups()
        if method == "GET" and not action:
            return html_answer(start, page(SANDBOX.links[link_id]))
        if method == "POST" and action == "decline":
            link = SANDBOX.decline(link_id)
            return html_answer(
                start, page(link, "The payment failed (declined). You can try again.")
            )
        if method == "POST" and action == "pay":
            link = SANDBOX.pay(link_id)
            if not link["callback_url"] or link["status"] != "paid":
                return html_answer(start, page(link))
            payment_id = link["payments"][-1]["payment_id"]
            query = {
                "razorpay_payment_id": payment_id,
                "razorpay_payment_link_id": link_id,
                "razorpay_payment_link_reference_id": link["reference_id"],
                "razorpay_payment_link_status": link["status"],
                "razorpay_signature": callback_signature(
                    link, payment_id, setting("RAZORPAY_KEY_SECRET", "")
                ),
            }
            separator = "&" if "?" in link["callback_url"] else "?"
            return redirect(start, f"{link['callback_url']}{separator}{urlencode(query)}")
    return json_answer(start, 404, razorpay_error("The requested URL was not found."))
