"""Schemathesis against every service's own /api/schema/, over the server, as anonymous, a customer
and staff, in every phase (stateful included) with every check: no 5xx, every answer matches its
schema, no status the schema does not declare, and the rest of schemathesis' checks.

The run's fixed part (seed, cases per operation, phases, checks) is in schemathesis.toml beside this
file; ``FUZZ_EXAMPLES`` sets the cases per operation and phase for a deeper run (``make fuzz``).
Here are the roles, what each role does not run and why, and the failures known today
(docs/development.md, "Fuzzing the API schemas").

The shop it fuzzes is a stack of its own, not the session's `stack`: fuzzing creates, changes and
deactivates demo products, categories and users that the other end-to-end tests count on. It sits
in tests/, not tests/e2e/, so that it runs after them: its three minutes in the middle of the
session would outlast the 5-minute tokens the `token_of` fixture keeps for the whole session.
"""

import os
import secrets
import tomllib
import warnings
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import schemathesis
from schemathesis.config import SchemathesisConfig
from schemathesis.engine import events, from_schema

from shop_common.demo import DEMO_LOGINS
from shop_common.testing.stack import Stack
from shop_common.topology import SERVICES, SERVICES_BY_NAME
from tests.e2e.helpers import running_stack

CONFIG = Path(__file__).with_name("schemathesis.toml")
API_DOCS = Path(__file__).resolve().parent.parent / "docs" / "api"
ROLES = ("anonymous", "customer", "staff")
PASSWORD = "a-long-enough-passphrase-7"

# Operations a role does not run, with the reason. Each run has throwaway users of its own, so a
# fuzzed PATCH or DELETE of "me" spoils nothing beyond that run; logging out would, though: every
# later case of the run would only see the 401 of a dead token.
EXCLUDED: dict[tuple[str, str], dict[str, str]] = {
    (service, role): {
        "POST /auth/logout/": "ends the session whose token the rest of the run sends "
        "(logout itself is covered by test_accounts.py, and fuzzed here as anonymous)"
    }
    for service in ("user",)
    for role in ("customer", "staff")
}

# Failures the views give today, each (service, role, check, "METHOD /path", status) with what is
# wrong. The views' owners fix them and remove the line; this list must only shrink. An entry that
# this run's cases did not hit is a warning: either the view is fixed (remove the entry) or a
# schema change changed the generated cases (the entry stays while the bug does). None of them is
# a 5xx, an undeclared status or an answer off its schema: those have no place here. What is left
# is valid-looking data refused by a rule a schema cannot state (which ids exist, which passwords
# Django's validators take, a gateway the configuration does not offer), numbers taken for text
# (DRF's CharField turns 5 into "5") and a DELETE that deactivates. Some are hit only by the deeper
# run (make fuzz): in the suite's run they are the warning above.
ANYONE = ROLES
SIGNED_IN = ("customer", "staff")
STAFF_ONLY = ("staff",)
POSITIVE, NEGATIVE = "positive_data_acceptance", "negative_data_rejection"
_KNOWN: dict[tuple[str, tuple[str, ...], str, str, int], str] = {
    ("user", ANYONE, POSITIVE, "POST /auth/signup/", 400): "a password Django's validators refuse "
    "(too common, too like the email, only digits), or an email its EmailValidator refuses",
    ("user", ANYONE, POSITIVE, "POST /auth/login/", 400): "an email Django's EmailValidator "
    "refuses though it has the email format",
    ("user", SIGNED_IN, POSITIVE, "PUT /users/{user_id}/", 400): "fields only an ADMIN may "
    "change (email, is_active) are a 400 for others",
    ("user", SIGNED_IN, POSITIVE, "PATCH /users/{user_id}/", 400): "fields only an ADMIN may "
    "change (email, is_active) are a 400 for others",
    ("product", ANYONE, POSITIVE, "GET /products/", 400): "a category id that does not exist is "
    "a 400 naming the filter",
    **{
        ("product", STAFF_ONLY, POSITIVE, operation, 400): "a category or parent id that does "
        "not exist is a 400 (DRF's PrimaryKeyRelatedField)"
        for operation in (
            "POST /category/",
            "PUT /category/{category_id}/",
            "PATCH /category/{category_id}/",
            "POST /products/",
            "PUT /products/{product_id}/",
            "PATCH /products/{product_id}/",
        )
    },
    **{
        ("product", STAFF_ONLY, NEGATIVE, operation, status): "a number sent for a text field "
        "is taken as its text (DRF's CharField)"
        for operation, status in (
            ("POST /category/", 201),
            ("POST /products/", 201),
            ("PUT /products/{product_id}/", 200),
            ("PUT /category/{category_id}/", 200),
        )
    },
    ("cart", SIGNED_IN, POSITIVE, "POST /api/cart/add/", 400): "exactly one of product_id and "
    "items: a rule between fields the serializer's schema does not state",
    **{
        ("cart", SIGNED_IN, NEGATIVE, operation, 200): "a number sent for a text field (key, "
        "order_number) is taken as its text (DRF's CharField)"
        for operation in (
            "POST /api/cart/checkout/",
            "POST /api/cart/checkout/cancel/",
            "POST /api/cart/checkout/complete/",
        )
    },
    ("product", ANYONE, NEGATIVE, "GET /category/", 200): "an empty page_size is the default "
    "page size",
    ("product", STAFF_ONLY, "use_after_free", "GET /products/{product_id}/", 200): "DELETE "
    "deactivates a product (orders keep naming it): staff still see it, others get a 404",
    **{
        ("payment", roles, POSITIVE, operation, 400): "a webhook without the provider's "
        "signature is a 400 before its body is read"
        for operation, roles in (
            ("POST /webhook/stripe/", ANYONE),
            ("POST /webhook/razorpay/", ANYONE),
            ("POST /payment/webhook/stripe/", ANYONE),
        )
    },
    **{
        ("payment", SIGNED_IN, POSITIVE, operation, 400): "a gateway the shop does not offer "
        "(PAYMENT_GATEWAYS, a setting) is a 400 naming the offered ones"
        for operation in ("POST /service/", "POST /payment/service/")
    },
    **{
        ("integration", SIGNED_IN, POSITIVE, operation, 400): "an empty cart (cart_empty) or a "
        "gateway the shop does not offer; the integration service's answers are being typed "
        "on their own (issue 23)"
        for operation in (
            "POST /checkout/",
            "POST /api/checkout/",
            "POST /orders/place/",
            "POST /api/orders/place/",
            "POST /payment/initiate/",
            "POST /api/payment/initiate/",
            "POST /cart/add/",
            "POST /api/cart/add/",
        )
    },
}
KNOWN_FAILURES: dict[tuple[str, str, str, str, int | None], str] = {
    (service, role, check, operation, status): reason
    for (service, roles, check, operation, status), reason in _KNOWN.items()
    for role in roles
}


@dataclass(frozen=True)
class Finding:
    service: str
    role: str
    check: str
    operation: str
    status: int | None
    title: str
    reproduce: str
    answer: str = ""

    @property
    def key(self) -> tuple[str, str, str, str, int | None]:
        return (self.service, self.role, self.check, self.operation, self.status)


@pytest.fixture(scope="module")
def fuzz_stack(tmp_path_factory):
    with running_stack(
        tmp_path_factory,
        "fuzz",
        # Fuzzing signs up and fails logins by the thousand from one address; the limits
        # themselves are tested in test_trust_boundaries.py.
        SIGNUP_RATE_PER_IP="1000000/hour",
        PASSWORD_FAILURES_PER_ACCOUNT="1000000/15m",
        PASSWORD_FAILURES_PER_ADDRESS="1000000/15m",
    ) as shop:
        yield shop


def login(shop: Stack, email: str, password: str) -> str:
    answer = httpx.post(
        f"{shop.url('user')}/auth/login/", json={"email": email, "password": password}
    )
    assert answer.status_code == 200, answer.text
    return answer.json()["access"]


def throwaway_token(shop: Stack, role: str) -> str:
    """A fresh user of that role, logged in now: the run's token outlives the run (5 minutes), and
    what the fuzzer does to "me" touches nobody else's test."""
    email = f"fuzz-{role}-{secrets.token_hex(4)}@shop.test"
    admin = login(shop, *DEMO_LOGINS["ADMIN"])
    created = httpx.post(
        f"{shop.url('user')}/users/",
        json={"email": email, "password": PASSWORD, "roles": [role.upper()]},
        headers={"Authorization": f"Bearer {admin}"},
    )
    assert created.status_code == 201, created.text
    return login(shop, email, PASSWORD)


def fuzz(shop: Stack, service: str, role: str) -> tuple[list[Finding], int]:
    """Runs schemathesis on one service as one role; returns what failed and how many cases ran."""
    settings = tomllib.loads(CONFIG.read_text())
    if "FUZZ_EXAMPLES" in os.environ:
        settings["generation"]["max-examples"] = int(os.environ["FUZZ_EXAMPLES"])
    settings["base-url"] = shop.url(service)
    if role != "anonymous":
        settings["headers"] = {"Authorization": f"Bearer {throwaway_token(shop, role)}"}
    config = SchemathesisConfig.from_dict(settings, base_dir=str(CONFIG.parent))
    schemas = [schemathesis.openapi.from_url(f"{shop.url(service)}/api/schema/", config=config)]
    # The /internal/ endpoints are not in the public schema; their own is in docs/api/.
    internal = API_DOCS / f"{SERVICES_BY_NAME[service].folder}.internal.yaml"
    if internal.exists():
        schemas.append(schemathesis.openapi.from_path(str(internal), config=config))
    findings: list[Finding] = []
    cases = 0
    for schema in schemas:
        for name in EXCLUDED.get((service, role), {}):
            schema = schema.exclude(name=name)
        found, ran = fuzz_schema(schema, service, role)
        findings += found
        cases += ran
    return findings, cases


def fuzz_schema(schema, service: str, role: str) -> tuple[list[Finding], int]:
    findings: list[Finding] = []
    cases = 0
    for event in from_schema(schema).execute():
        if isinstance(event, events.ScenarioFinished):
            recorder = event.recorder
            cases += len(recorder.cases)
            for case_id, checks in recorder.checks.items():
                for check in checks:
                    if check.failure_info is None:
                        continue
                    case = recorder.cases[case_id].value
                    interaction = recorder.interactions.get(case_id)
                    response = interaction.response if interaction else None
                    findings.append(
                        Finding(
                            service,
                            role,
                            check.name,
                            f"{case.method} {case.path}",
                            response.status_code if response else None,
                            check.failure_info.failure.title,
                            check.failure_info.code_sample,
                            response.content[:300].decode(errors="replace") if response else "",
                        )
                    )
        elif isinstance(event, events.NonFatalError | events.FatalError):
            # A timeout or a dropped connection is a failure too, not something to skip.
            error = getattr(event, "info", None) or getattr(event, "exception", None)
            label = str(getattr(event, "label", ""))
            findings.append(Finding(service, role, "error", label, None, str(error), ""))
    return findings, cases


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("service", [service.name for service in SERVICES])
def test_every_answer_is_declared_and_matches_its_schema(fuzz_stack, service, role):
    findings, cases = fuzz(fuzz_stack, service, role)

    unexpected = [finding for finding in findings if finding.key not in KNOWN_FAILURES]
    seen = {finding.key for finding in findings}
    gone = [key for key in KNOWN_FAILURES if key[:2] == (service, role) and key not in seen]
    if gone:
        warnings.warn(
            f"known failures not hit by this run (remove them if the view is fixed): {gone}",
            stacklevel=1,
        )
    assert cases > 0
    summary = Counter((finding.check, finding.operation, finding.status) for finding in unexpected)
    examples = {finding.key: finding for finding in unexpected}
    assert not unexpected, "\n".join(
        [
            f"{count} x {check} {operation} -> {status}"
            for (check, operation, status), count in summary.items()
        ]
        + [
            f"\n{finding.title}\n{finding.reproduce}\n-> {finding.status} {finding.answer}"
            for finding in examples.values()
        ]
    )
