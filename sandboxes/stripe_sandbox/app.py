"""An offline, Stripe-compatible sandbox for Checkout Sessions (the embedded default and the tests).

It speaks enough of Stripe's API for the official SDK (``STRIPE_API_BASE`` points the payment
service here): create, retrieve and expire Checkout Sessions, with Stripe's request encoding,
response shapes, errors and idempotency keys. It serves the hosted checkout page where a person
clicks Pay or Decline, and delivers the matching event to the payment service's webhook, signed
with Stripe's ``t=...,v1=...`` scheme, retrying with back-off until it gets a 2xx.

State lives in this process's memory (run it with one worker; threads are fine). Environment:
``STRIPE_WEBHOOK_SECRET`` (signs events), ``PAYMENT_SERVICE_URL`` (events go to its
``/webhook/stripe/``), ``STRIPE_API_BASE`` (its own address, for the hosted page's link),
``STRIPE_SANDBOX_DEBUG_ROUTES`` (``True``: the unauthenticated ``/_sandbox/`` helper routes answer;
otherwise they are 404. make run and the test stacks turn them on when they start it).
"""

import hashlib
import hmac
import html
import itertools
import json
import re
import secrets
import threading
import time
from collections.abc import Iterable
from typing import Any
from urllib.parse import parse_qsl

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


def _slot(node: list[Any], index: int) -> None:
    while len(node) <= index:
        node.append(None)


def nested(pairs: Iterable[tuple[str, str]]) -> dict[str, Any]:
    """Stripe's form encoding (``line_items[0][price_data][currency]=usd``) back into objects."""
    root: dict[str, Any] = {}
    for key, value in pairs:
        parts = re.findall(r"[^\[\]]+", key)
        node: Any = root
        for part, following in itertools.pairwise(parts):
            child: Any = [] if following.isdigit() else {}
            if isinstance(node, list):
                _slot(node, int(part))
                if node[int(part)] is None:
                    node[int(part)] = child
                node = node[int(part)]
            else:
                node = node.setdefault(part, child)
        if isinstance(node, list):
            _slot(node, int(parts[-1]))
            node[int(parts[-1])] = value
        else:
            node[parts[-1]] = value
    return root


def sign(payload: bytes, secret: str, timestamp: int | None = None) -> str:
    """Stripe's webhook signature header for ``payload``."""
    timestamp = int(time.time()) if timestamp is None else timestamp
    signed = f"{timestamp}.".encode() + payload
    return f"t={timestamp},v1={hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()}"


class Sandbox:
    def __init__(self) -> None:
        self.sessions: dict[str, dict[str, Any]] = {}
        self.by_idempotency_key: dict[str, str] = {}
        self.intents: dict[str, str] = {}  # PaymentIntent → its session, once paid
        self.refunds: dict[str, dict[str, Any]] = {}
        self.received: list[dict[str, Any]] = []  # create requests as the SDK sent them, for tests
        self.deliveries: list[dict[str, Any]] = []
        self.lock = threading.Lock()
        self.retry_delays = list(DELIVERY_RETRY_DELAYS)

    # --- the API ------------------------------------------------------------------------------

    def create_session(
        self, params: dict[str, Any], idempotency_key: str | None
    ) -> tuple[int, dict[str, Any]]:
        with self.lock:
            if idempotency_key and idempotency_key in self.by_idempotency_key:
                return 200, self.sessions[self.by_idempotency_key[idempotency_key]]
            self.received.append(params)
            try:
                items = params["line_items"]
                amount = sum(
                    int(item["price_data"]["unit_amount"]) * int(item.get("quantity", 1))
                    for item in items
                )
                currency = items[0]["price_data"]["currency"].lower()
            except (KeyError, ValueError, TypeError, IndexError):
                return 400, stripe_error(
                    "parameter_missing", "line_items with price_data are required."
                )
            if params.get("mode") != "payment" or not params.get("success_url"):
                return 400, stripe_error(
                    "parameter_invalid", "mode=payment and success_url are required."
                )
            session_id = f"cs_test_{secrets.token_hex(12)}"
            now = int(time.time())
            public = public_url("stripe", "http://127.0.0.1:12111")
            session = {
                "id": session_id,
                "object": "checkout.session",
                "amount_subtotal": amount,
                "amount_total": amount,
                "currency": currency,
                "client_reference_id": params.get("client_reference_id"),
                "metadata": params.get("metadata", {}),
                "mode": "payment",
                "payment_status": "unpaid",
                "status": "open",
                "payment_intent": None,
                "success_url": params["success_url"],
                "cancel_url": params.get("cancel_url"),
                "url": f"{public}/pay/{session_id}",
                "created": now,
                "expires_at": int(params.get("expires_at") or now + 24 * 3600),
                "livemode": False,
            }
            self.sessions[session_id] = session
            if idempotency_key:
                self.by_idempotency_key[idempotency_key] = session_id
            return 200, session

    def finish(self, session_id: str, outcome: str) -> dict[str, Any] | None:
        """A person paid, declined, or the session expired: change it and send the event."""
        with self.lock:
            session = self.sessions.get(session_id)
            if session is None or session["status"] != "open":
                return session
            if outcome == "pay":
                session.update(
                    status="complete",
                    payment_status="paid",
                    payment_intent=f"pi_test_{secrets.token_hex(8)}",
                )
                self.intents[session["payment_intent"]] = session_id
                event_type = "checkout.session.completed"
            elif outcome == "decline":
                session.update(status="complete", payment_status="unpaid")
                event_type = "checkout.session.async_payment_failed"
            else:
                session.update(status="expired")
                event_type = "checkout.session.expired"
            event = {
                "id": f"evt_test_{secrets.token_hex(12)}",
                "object": "event",
                "api_version": "2025-01-01",
                "created": int(time.time()),
                "type": event_type,
                "livemode": False,
                "data": {"object": dict(session)},
            }
        threading.Thread(target=self.deliver, args=(event,), daemon=True).start()
        return session

    def refund(
        self, params: dict[str, Any], idempotency_key: str | None
    ) -> tuple[int, dict[str, Any]]:
        """``POST /v1/refunds``: part or all of a paid session's PaymentIntent goes back; a
        ``charge.refunded`` event follows."""
        with self.lock:
            if idempotency_key and idempotency_key in self.by_idempotency_key:
                return 200, self.refunds[self.by_idempotency_key[idempotency_key]]
            self.received.append({"path": "/v1/refunds", **params})
            intent = params.get("payment_intent", "")
            session = self.sessions.get(self.intents.get(intent, ""))
            if session is None:
                return 404, stripe_error("resource_missing", f"No such payment_intent: '{intent}'")
            done = [r for r in self.refunds.values() if r["payment_intent"] == intent]
            left = session["amount_total"] - sum(r["amount"] for r in done)
            try:
                amount = int(params.get("amount", left))
            except ValueError:
                return 400, stripe_error("parameter_invalid_integer", "amount must be an integer.")
            if left <= 0:
                return 400, stripe_error(
                    "charge_already_refunded", "This charge has already been refunded."
                )
            if amount < 1 or amount > left:
                return 400, stripe_error(
                    "amount_too_large",
                    f"Refund amount ({amount}) is greater than unrefunded amount on charge ({left})",
                )
            refund = {
                "id": f"re_test_{secrets.token_hex(10)}",
                "object": "refund",
                "amount": amount,
                "currency": session["currency"],
                "payment_intent": intent,
                "charge": f"ch_{intent.removeprefix('pi_')}",
                "metadata": params.get("metadata", {}),
                "status": "succeeded",
                "created": int(time.time()),
            }
            self.refunds[refund["id"]] = refund
            if idempotency_key:
                self.by_idempotency_key[idempotency_key] = refund["id"]
            done.append(refund)
            refunded = sum(r["amount"] for r in done)
            charge = {
                "id": refund["charge"],
                "object": "charge",
                "amount": session["amount_total"],
                "amount_refunded": refunded,
                "refunded": refunded == session["amount_total"],
                "currency": session["currency"],
                "payment_intent": intent,
                "metadata": {},
                "refunds": {"object": "list", "data": list(reversed(done))},
            }
            event = {
                "id": f"evt_test_{secrets.token_hex(12)}",
                "object": "event",
                "api_version": "2025-01-01",
                "created": int(time.time()),
                "type": "charge.refunded",
                "livemode": False,
                "data": {"object": charge},
            }
        threading.Thread(target=self.deliver, args=(event,), daemon=True).start()
        return 200, refund

    # --- webhook delivery ---------------------------------------------------------------------

    def deliver(self, event: dict[str, Any]) -> None:
        payload = json.dumps(event).encode()
        secret = setting("STRIPE_WEBHOOK_SECRET", "")
        record = {
            "event_id": event["id"],
            "type": event["type"],
            "attempts": [],
            "delivered": False,
        }
        with self.lock:
            self.deliveries.append(record)
        deliver(
            webhook_url("stripe"),
            payload,
            lambda: {"Stripe-Signature": sign(payload, secret)},
            delays=self.retry_delays,
            record=record,
        )


def stripe_error(code: str, message: str, kind: str = "invalid_request_error") -> dict[str, Any]:
    return {"error": {"type": kind, "code": code, "message": message}}


PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Sandbox checkout</title>
<style>body{{font-family:system-ui,sans-serif;max-width:32rem;margin:4rem auto;padding:0 1rem}}
.amount{{font-size:2rem;margin:1rem 0}} button{{font-size:1rem;padding:.6rem 1.4rem;margin-right:1rem;cursor:pointer}}
.note{{color:#666;font-size:.9rem}}</style></head><body>
<h1>Sandbox checkout</h1><p class="note">An offline stand-in for Stripe Checkout. No card is charged.</p>
<p class="amount" id="amount">{amount} {currency}</p><p>Order reference: <code>{reference}</code></p>
{body}</body></html>"""


def page(session: dict[str, Any]) -> str:
    amount = f"{session['amount_total'] / 100:.2f}"
    if session["status"] == "open":
        body = (
            f'<form method="post" action="/pay/{session["id"]}/pay" style="display:inline">'
            '<button id="pay" type="submit">Pay</button></form>'
            f'<form method="post" action="/pay/{session["id"]}/decline" style="display:inline">'
            '<button id="decline" type="submit">Decline</button></form>'
        )
    else:
        body = f'<p id="state">This checkout is {html.escape(session["status"])} ({html.escape(session["payment_status"])}).</p>'
    return PAGE.format(
        amount=amount,
        currency=html.escape(session["currency"].upper()),
        reference=html.escape(str(session.get("client_reference_id") or "")),
        body=body,
    )


SANDBOX = Sandbox()


_json = json_answer


def debug_routes_enabled() -> bool:
    """The ``/_sandbox/`` routes show every request and delivery to anyone who asks: development
    and tests only, by an explicit variable (read on each request, like the other settings)."""
    return flag("STRIPE_SANDBOX_DEBUG_ROUTES")


def _authorized(environ: dict[str, Any]) -> bool:
    return environ.get("HTTP_AUTHORIZATION", "").startswith("Bearer sk_test_")


def application(environ: dict[str, Any], start: Start) -> list[bytes]:
    method, path, body = request_parts(environ)

    if path in ("/health", "/health/"):
        return _json(start, 200, {"service": "stripe-sandbox", "status": "ok"})
    if path.startswith("/_sandbox/"):
        if debug_routes_enabled() and path == "/_sandbox/requests":  # what the SDK sent, for tests
            return _json(
                start, 200, {"received": SANDBOX.received, "deliveries": SANDBOX.deliveries}
            )
        return _json(start, 404, stripe_error("resource_missing", "Not found."))

    if path.startswith("/v1/"):
        if not _authorized(environ):
            return _json(
                start,
                401,
                stripe_error("api_key_invalid", "Invalid API key.", "authentication_error"),
            )
        if method == "POST" and path == "/v1/checkout/sessions":
            params = nested(parse_qsl(body.decode(), keep_blank_values=True))
            status, answer = SANDBOX.create_session(params, environ.get("HTTP_IDEMPOTENCY_KEY"))
            return _json(start, status, answer)
        if method == "POST" and path == "/v1/refunds":
            params = nested(parse_qsl(body.decode(), keep_blank_values=True))
            status, answer = SANDBOX.refund(params, environ.get("HTTP_IDEMPOTENCY_KEY"))
            return _json(start, status, answer)
        match = re.fullmatch(r"/v1/refunds/(re_test_[0-9a-f]+)", path)
        if match and method == "GET":
            if match.group(1) not in SANDBOX.refunds:
                return _json(
                    start, 404, stripe_error("resource_missing", f"No such refund: '{match[1]}'")
                )
            return _json(start, 200, SANDBOX.refunds[match.group(1)])
        match = re.fullmatch(r"/v1/checkout/sessions/(cs_test_[0-9a-f]+)(/expire)?", path)
        if match and match.group(1) in SANDBOX.sessions:
            if method == "GET" and not match.group(2):
                return _json(start, 200, SANDBOX.sessions[match.group(1)])
            if method == "POST" and match.group(2):
                session = SANDBOX.sessions[match.group(1)]
                if session["status"] != "open":
                    return _json(
                        start,
                        400,
                        stripe_error("session_not_open", "Only an open session can expire."),
                    )
                return _json(start, 200, SANDBOX.finish(match.group(1), "expire"))
        return _json(start, 404, stripe_error("resource_missing", f"No such resource: {path}"))

    match = re.fullmatch(r"/pay/(cs_test_[0-9a-f]+)(?:/(pay|decline))?", path)
    if match and match.group(1) in SANDBOX.sessions:
        session_id, action = match.groups()
        if method == "GET" and not action:
            return html_answer(start, page(SANDBOX.sessions[session_id]))
        if method == "POST" and action:
            session = SANDBOX.finish(session_id, action)
            target = (
                session["success_url"]
                if action == "pay"
                else (session.get("cancel_url") or session["success_url"])
            )
            return redirect(start, target.replace("{CHECKOUT_SESSION_ID}", session_id))
    return _json(start, 404, stripe_error("resource_missing", "Not found."))
