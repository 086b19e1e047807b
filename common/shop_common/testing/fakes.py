"""The other services as one service's unit tests see them, at the HTTP level (respx): the user
service's token checks and logins, the product service's stock and batch lookup, the order
service's internal API, the payment service's start of an order's payment. The fixtures in :mod:`shop_common.testing.fixtures` put them at the
configured service URLs; end-to-end tests use the real services."""

import base64
import itertools
import json
import secrets
import uuid
from datetime import timedelta
from typing import Any

import httpx
import jwt
import respx
from django.utils import timezone

from shop_common import signed_tokens
from shop_common.auth import SERVICE_CLIENTS
from shop_common.roles import CUSTOMER


def error_response(status: int, code: str, details: dict[str, Any] | None = None) -> httpx.Response:
    """An answer in the shop's error shape, as the real services give it."""
    return httpx.Response(
        status, json={"error": {"code": code, "message": "", "details": details or {}}}
    )


class _InternalFake:
    """A fake service's internal API: it answers only service tokens the fake user service issued,
    and can be "down"."""

    name = "service"

    def __init__(self, users: "FakeUserService") -> None:
        self.users = users
        self.down = False

    def _refusal(self, request: httpx.Request) -> httpx.Response | None:
        if self.down:
            raise httpx.ConnectError(f"the fake {self.name} service is down")
        token = request.headers.get("Authorization", "").removeprefix("Bearer ")
        if token not in self.users.service_tokens:
            return error_response(401, "invalid_token")
        return None


# Signs the fake's service tokens, as the real user service's SERVICE_TOKEN_SIGNING_KEY does.
FAKE_SERVICE_TOKEN_KEY = signed_tokens.signing_key("fake-user-service-token-key-for-tests-only")
# Signs the fake's JWT-shaped user tokens (nothing checks the signature; long enough for PyJWT).
FAKE_SIGNING_KEY = "fake-user-service-key-for-tests-only-0123456789"


class FakeUserService:
    """The user service as another service's unit tests see it, at the HTTP level (respx): it knows
    the tokens the test made, answers /auth/validate/ and /o/introspect/ like the real one, and can
    be "down". End-to-end tests use the real one."""

    def __init__(self, router: respx.Router, base_url: str) -> None:
        self.user_tokens: dict[str, dict[str, Any]] = {}
        self.service_tokens: dict[str, dict[str, Any]] = {}
        self.logins: dict[tuple[str, str], dict[str, Any]] = {}
        self.sessions: dict[str, dict[str, Any]] = {}
        self.throttled = False
        self.down = False
        self._ids = itertools.count(1000)
        self.validate = router.post(f"{base_url}/auth/validate/").mock(side_effect=self._validate)
        self.introspect = router.post(f"{base_url}/o/introspect/").mock(
            side_effect=self._introspect
        )
        self.login = router.post(f"{base_url}/auth/login/").mock(side_effect=self._login)
        self.token = router.post(f"{base_url}/o/token/").mock(side_effect=self._client_credentials)
        self.health = router.get(f"{base_url}/health/").mock(side_effect=self._health)
        self.jwks = router.get(f"{base_url}{signed_tokens.JWKS_PATH}").mock(side_effect=self._jwks)
        self.staff_login = router.post(f"{base_url}/internal/staff-sessions/").mock(
            side_effect=self._staff_login
        )
        self.session_check = router.get(
            url__regex=rf"{base_url}/internal/sessions/(?P<session_id>[0-9a-f-]+)/"
        ).mock(side_effect=self._session_state)
        self.session_end = router.delete(
            url__regex=rf"{base_url}/internal/sessions/(?P<session_id>[0-9a-f-]+)/"
        ).mock(side_effect=self._end_session)

    def token_for(self, *roles: str, user_id: int | None = None, email: str | None = None) -> str:
        """A fresh access token of a user with ``roles`` (CUSTOMER when none are given)."""
        user_id = user_id or next(self._ids)
        session_id = uuid.uuid4().hex
        # A JWT like the user service's (its signature is not what the fake checks).
        token = jwt.encode(
            {"sid": session_id, "jti": uuid.uuid4().hex}, FAKE_SIGNING_KEY, algorithm="HS256"
        )
        self.user_tokens[token] = {
            "user_id": user_id,
            "email": email or f"user{user_id}@shop.test",
            "username": f"user{user_id}",
            "phone_number": "",
            "roles": sorted(roles or (CUSTOMER,)),
            "expires_at": (timezone.now() + timedelta(minutes=5)).isoformat(),
            "session_id": session_id,
            # A login token's: every right of its user (an OAuth2 token's names its scopes).
            "scopes": None,
        }
        return token

    def service_token(self, *scopes: str, client_id: str = "shop-order") -> str:
        """A shop service's token is signed, like the real one's (an outside application's is
        django-oauth-toolkit's random string of 30 letters and digits)."""
        if client_id in SERVICE_CLIENTS:
            token = signed_tokens.sign(
                FAKE_SERVICE_TOKEN_KEY,
                client_id=client_id,
                scopes=scopes or ("internal",),
                lifetime=3600,
            )
        else:
            token = secrets.token_hex(15)
        self.service_tokens[token] = {
            "client_id": client_id,
            "scopes": list(scopes or ("internal",)),
        }
        return token

    def add_login(self, email: str, password: str, *roles: str) -> None:
        user_id = next(self._ids)
        self.logins[(email, password)] = {
            "access": f"login-access-{user_id}",
            "refresh": f"login-refresh-{user_id}",
            "expires_in": 300,
            "user": {
                "id": user_id,
                "email": email,
                "username": email.split("@")[0],
                "roles": sorted(roles),
            },
        }

    def _unavailable(self) -> None:
        if self.down:
            raise httpx.ConnectError("the fake user service is down")

    def _health(self, request: httpx.Request) -> httpx.Response:
        self._unavailable()
        return httpx.Response(200, json={"service": "user", "status": "ok"})

    def _jwks(self, request: httpx.Request) -> httpx.Response:
        self._unavailable()
        return httpx.Response(200, json=signed_tokens.jwks([FAKE_SERVICE_TOKEN_KEY]))

    def _validate(self, request: httpx.Request) -> httpx.Response:
        self._unavailable()
        token = json.loads(request.content or b"{}").get("token")
        answer = self.user_tokens.get(token)
        if answer is None:
            return error_response(401, "invalid_token")
        return httpx.Response(200, json=answer)

    def _introspect(self, request: httpx.Request) -> httpx.Response:
        """Like the real one: only a service's bearer token with the scope introspection (any
        other bearer is a 403; without one, a 401)."""
        self._unavailable()
        authorization = request.headers.get("Authorization", "")
        if not authorization.startswith("Bearer "):
            return error_response(401, "invalid_client")
        caller = self.service_tokens.get(authorization.removeprefix("Bearer "))
        if caller is None or "introspection" not in caller["scopes"]:
            return error_response(403, "permission_denied")
        token = httpx.QueryParams(request.content.decode()).get("token")
        known = self.service_tokens.get(token)
        if known is None:
            return httpx.Response(200, json={"active": False})
        exp = int((timezone.now() + timedelta(hours=1)).timestamp())
        return httpx.Response(
            200,
            json={
                "active": True,
                "client_id": known["client_id"],
                "scope": " ".join(known["scopes"]),
                "exp": exp,
            },
        )

    def _client_credentials(self, request: httpx.Request) -> httpx.Response:
        """A service asking for its own token gets one, in its own name, that this fake will also
        introspect."""
        self._unavailable()
        scope = httpx.QueryParams(request.content.decode()).get("scope") or "internal"
        basic = request.headers.get("Authorization", "").removeprefix("Basic ")
        client_id = base64.b64decode(basic).decode().partition(":")[0]
        token = self.service_token(*scope.split(), client_id=client_id)
        return httpx.Response(
            200,
            json={
                "access_token": token,
                "token_type": "Bearer",
                "expires_in": 3600,
                "scope": scope,
            },
        )

    def _staff_login(self, request: httpx.Request) -> httpx.Response:
        self._unavailable()
        if self.throttled:
            return error_response(429, "throttled")
        body = json.loads(request.content or b"{}")
        answer = self.logins.get((body.get("email"), body.get("password")))
        if answer is None:
            return error_response(401, "invalid_credentials")
        session_id = str(uuid.uuid4())
        self.sessions[session_id] = {"active": True, "user": dict(answer["user"])}
        return httpx.Response(201, json={"session_id": session_id, "user": answer["user"]})

    def _session_state(self, request: httpx.Request, session_id: str) -> httpx.Response:
        self._unavailable()
        session = self.sessions.get(session_id)
        if session is None:
            return error_response(404, "session_not_found")
        return httpx.Response(200, json={"session_id": session_id, **session})

    def _end_session(self, request: httpx.Request, session_id: str) -> httpx.Response:
        self._unavailable()
        if session_id in self.sessions:
            self.sessions[session_id]["active"] = False
        return httpx.Response(204)

    def _login(self, request: httpx.Request) -> httpx.Response:
        self._unavailable()
        body = json.loads(request.content or b"{}")
        answer = self.logins.get((body.get("email"), body.get("password")))
        if answer is None:
            return error_response(401, "invalid_credentials")
        return httpx.Response(200, json=answer)


class FakeProductService(_InternalFake):
    """The product service's internal batch lookup, as a cart's or an order's tests see it. It
    accepts only service tokens that the fake user service issued."""

    name = "product"

    def __init__(self, router: respx.Router, base_url: str, users: FakeUserService) -> None:
        super().__init__(users)
        self.products: dict[int, dict[str, Any]] = {}
        self._ids = itertools.count(1)
        self.reservations: dict[str, dict[str, Any]] = {}
        self.lookup = router.get(f"{base_url}/internal/products/").mock(side_effect=self._lookup)
        self.reserve = router.post(f"{base_url}/internal/stock/reserve/").mock(
            side_effect=self._reserve
        )
        self.commit = router.post(f"{base_url}/internal/stock/commit/").mock(
            side_effect=self._close
        )
        self.release = router.post(f"{base_url}/internal/stock/release/").mock(
            side_effect=self._close
        )

    def add(
        self, *, price: str = "10.00", available: int = 10, is_active: bool = True, **fields: Any
    ) -> int:
        product_id = fields.pop("id", None) or next(self._ids)
        self.products[product_id] = {
            "id": product_id,
            "title": fields.get("title", f"Product {product_id}"),
            "sku": fields.get("sku", f"SKU-{product_id}"),
            "price": price,
            "currency": fields.get("currency", "USD"),
            "is_active": is_active,
            "available": available,
            "image_url": "",
        }
        return product_id

    def _reserve(self, request: httpx.Request) -> httpx.Response:
        """All lines or none against ``available``, each line answered with its product's title,
        sku, price and currency; unknown or inactive products are a 404 naming them; the same
        order_ref again answers the same reservation."""
        if refusal := self._refusal(request):
            return refusal
        body = json.loads(request.content)
        ref = body["order_ref"]
        if ref in self.reservations:
            return httpx.Response(200, json=self._priced(self.reservations[ref]))
        wanted: dict[int, int] = {}
        for line in body["lines"]:
            wanted[line["product_id"]] = wanted.get(line["product_id"], 0) + line["quantity"]
        for_sale = {pid for pid, product in self.products.items() if product["is_active"]}
        if not_for_sale := sorted(set(wanted) - for_sale):
            return error_response(404, "product_not_found", {"product_ids": not_for_sale})
        short = [
            {"product_id": pid, "requested": quantity, "available": self.products[pid]["available"]}
            for pid, quantity in sorted(wanted.items())
            if self.products[pid]["available"] < quantity
        ]
        if short:
            return error_response(409, "out_of_stock", {"lines": short})
        for pid, quantity in wanted.items():
            self.products[pid]["available"] -= quantity
        self.reservations[ref] = {
            "order_ref": ref,
            "status": "RESERVED",
            "lines": [{"product_id": pid, "quantity": q} for pid, q in sorted(wanted.items())],
        }
        return httpx.Response(201, json=self._priced(self.reservations[ref]))

    def _priced(self, reservation: dict[str, Any]) -> dict[str, Any]:
        facts = ("title", "sku", "price", "currency")
        return {
            **reservation,
            "lines": [
                {**line, **{name: self.products[line["product_id"]][name] for name in facts}}
                for line in reservation["lines"]
            ],
        }

    def _close(self, request: httpx.Request) -> httpx.Response:
        """Commit or release; idempotent; crossing a closed reservation is a 409."""
        if refusal := self._refusal(request):
            return refusal
        to = "COMMITTED" if request.url.path.endswith("/commit/") else "RELEASED"
        reservation = self.reservations.get(json.loads(request.content)["order_ref"])
        if reservation is None:
            return error_response(404, "reservation_not_found")
        if reservation["status"] not in ("RESERVED", to):
            return error_response(409, "reservation_closed")
        if reservation["status"] == "RESERVED" and to == "RELEASED":
            for line in reservation["lines"]:
                self.products[line["product_id"]]["available"] += line["quantity"]
        reservation["status"] = to
        return httpx.Response(200, json=reservation)

    def _lookup(self, request: httpx.Request) -> httpx.Response:
        if refusal := self._refusal(request):
            return refusal
        ids = [int(part) for part in request.url.params["ids"].split(",")]
        return httpx.Response(
            200,
            json={
                "results": [self.products[i] for i in sorted(ids) if i in self.products],
                "missing": sorted(i for i in ids if i not in self.products),
            },
        )


class FakeOrderService(_InternalFake):
    """The order service's internal API as the payment service's tests see it."""

    name = "order"

    def __init__(self, router: respx.Router, base_url: str, users: FakeUserService) -> None:
        super().__init__(users)
        self.orders: dict[int, dict[str, Any]] = {}
        self._ids = itertools.count(1)
        self.read = router.get(url__regex=rf"{base_url}/internal/orders/(?P<order_id>\d+)/$").mock(
            side_effect=self._read
        )
        self.outcome = router.post(
            url__regex=rf"{base_url}/internal/orders/(?P<order_id>\d+)/(?P<outcome>payment-succeeded|payment-failed)/$"
        ).mock(side_effect=self._outcome)
        self.refunded = router.post(
            url__regex=rf"{base_url}/internal/orders/(?P<order_id>\d+)/refunded/$"
        ).mock(side_effect=self._refunded)

    def add(
        self, *, user_id: int, total: str = "53.20", currency: str = "USD", status: str = "PENDING"
    ) -> int:
        order_id = next(self._ids)
        self.orders[order_id] = {
            "id": order_id,
            "order_number": f"ORD-TEST{order_id:04d}",
            "user_id": user_id,
            "status": status,
            "total_amount": total,
            "currency": currency,
            "payment_reference": "",
            "needs_refund": False,
        }
        return order_id

    def _read(self, request: httpx.Request, order_id: str) -> httpx.Response:
        if refusal := self._refusal(request):
            return refusal
        order = self.orders.get(int(order_id))
        if order is None:
            return error_response(404, "order_not_found")
        return httpx.Response(200, json=order)

    def _outcome(self, request: httpx.Request, order_id: str, outcome: str) -> httpx.Response:
        if refusal := self._refusal(request):
            return refusal
        order = self.orders[int(order_id)]
        reference = json.loads(request.content)["payment_reference"]
        # The order service's rules (orders.services.payment_succeeded / payment_failed);
        # orderService/orders/tests/test_fake_agrees.py checks that both still agree.
        if outcome == "payment-succeeded":
            if order["status"] != "PENDING":
                if order["payment_reference"] == reference and order["status"] != "CANCELLED":
                    return httpx.Response(200, json={**order, "changed": False})
                if order["status"] == "CANCELLED":
                    order["needs_refund"] = True
                return error_response(409, "order_not_payable")
            order["status"] = "PAID"
            order["payment_reference"] = reference
        else:
            if order["status"] == "CANCELLED":
                return httpx.Response(200, json={**order, "changed": False})
            if order["status"] != "PENDING":
                return error_response(409, "illegal_transition")
            order["status"] = "CANCELLED"
        return httpx.Response(200, json={**order, "changed": True})

    def _refunded(self, request: httpx.Request, order_id: str) -> httpx.Response:
        """PAID or later → REFUNDED, as orders.services.refunded does."""
        if refusal := self._refusal(request):
            return refusal
        order = self.orders[int(order_id)]
        reference = json.loads(request.content)["payment_reference"]
        if order["payment_reference"] and order["payment_reference"] != reference:
            return error_response(409, "payment_reference_mismatch")
        if order["status"] == "REFUNDED":
            return httpx.Response(200, json={**order, "changed": False})
        if order["status"] not in ("PAID", "CONFIRMED", "SHIPPED", "DELIVERED"):
            return error_response(409, "illegal_transition")
        order["status"] = "REFUNDED"
        return httpx.Response(200, json={**order, "changed": True})


class FakePaymentService(_InternalFake):
    """The payment service's internal start of an order's payment, as the order service's tests see
    it: one open payment per order (asked again: the same, 200), only a PENDING order gets a new one,
    and a gateway outside ``gateways`` is a 400. payments/tests/test_fake_agrees.py checks it
    against the real one."""

    name = "payment"

    def __init__(self, router: respx.Router, base_url: str, users: FakeUserService) -> None:
        super().__init__(users)
        self.gateways = ["stripe"]
        self.payments: dict[int, dict[str, Any]] = {}  # the open payment of each order
        self._ids = itertools.count(1)
        self.start = router.post(f"{base_url}/internal/payments/").mock(side_effect=self._start)

    def _start(self, request: httpx.Request) -> httpx.Response:
        if refusal := self._refusal(request):
            return refusal
        body = json.loads(request.content)
        gateway = body.get("gateway") or self.gateways[0]
        if gateway not in self.gateways:
            return error_response(400, "gateway_not_available", {"available": self.gateways})
        payment = self.payments.get(body["order_id"])
        if payment is not None:
            if payment["gateway"] != gateway:
                return error_response(409, "payment_open", {"payment_id": payment["payment_id"]})
            return httpx.Response(200, json=payment)
        if body["status"] != "PENDING":
            return error_response(409, "order_not_payable", {"order_id": body["order_id"]})
        payment_id = next(self._ids)
        url = f"https://checkout.fake.test/pay/{payment_id}"
        self.payments[body["order_id"]] = payment = {
            "payment_id": payment_id,
            "order_id": body["order_id"],
            "status": "PENDING",
            "gateway": gateway,
            "amount": body["total_amount"],
            "currency": body["currency"],
            "checkout_url": url,
            "url": url,
        }
        return httpx.Response(201, json=payment)
