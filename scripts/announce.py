#!/usr/bin/env python
"""Part of `make run`: waits until all six services answer /health/, prints where they are, then
stays up (honcho stops every process when one exits, so this one must not exit while all is well)."""

import os
import signal
import sys
import time
from pathlib import Path

import httpx

from shop_common.demo import DEMO_USERS
from shop_common.topology import RAZORPAY_SANDBOX, SERVICES, SERVICES_BY_NAME, STRIPE_SANDBOX

READY_TIMEOUT_SECONDS = 60
ROOT = Path(__file__).resolve().parent.parent


def demo_logins() -> str:
    user = os.environ.get("USER_SERVICE_URL", "http://127.0.0.1:8001").rstrip("/")
    product = service_url(SERVICES_BY_NAME["product"])
    payment = service_url(SERVICES_BY_NAME["payment"])
    lines = [f"  {role:<9} {email:<20} {password}" for email, password, role, _ in DEMO_USERS]
    return (
        "Demo logins (POST /auth/login/ {email, password}; the admin also opens "
        f"{user}/admin/; get an OAuth token at {user}/oauth/):\n"
        + "\n".join(lines)
        + "\n\nStaff admins (the STAFF or ADMIN login above): catalog "
        f"{product}/admin/, payments and refunds {payment}/admin/"
    )


def service_url(service) -> str:
    return os.environ.get(service.url_variable, service.default_url).rstrip("/")


def wait_until_healthy() -> list[str]:
    pending = {service.name: service for service in SERVICES}
    deadline = time.monotonic() + READY_TIMEOUT_SECONDS
    while pending and time.monotonic() < deadline:
        for name, service in list(pending.items()):
            try:
                if httpx.get(f"{service_url(service)}/health/", timeout=1).status_code == 200:
                    del pending[name]
            except httpx.TransportError:
                pass
        time.sleep(0.3)
    return sorted(pending)


def table() -> str:
    """The table README.md shows (a test compares them): where each service and the two
    provider sandboxes answer, and each service's API documentation."""
    rows = [("service", "folder", "URL", "API docs")]
    rows += [
        (
            service.display_name,
            f"{service.folder}/",
            service_url(service),
            f"{service_url(service)}/api/docs/",
        )
        for service in SERVICES
    ]
    sandbox = os.environ.get("STRIPE_API_BASE", STRIPE_SANDBOX.default_url).rstrip("/")
    rows.append(("Stripe sandbox", "sandboxes/stripe_sandbox/", sandbox, "(offline Checkout)"))
    razorpay = os.environ.get("RAZORPAY_API_BASE", RAZORPAY_SANDBOX.default_url).rstrip("/")
    rows.append(
        (
            "Razorpay sandbox",
            "sandboxes/razorpay_sandbox/",
            razorpay,
            "(offline Payment Links)",
        )
    )
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = [
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in rows
    ]
    lines.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join(lines)


def banner() -> str:
    """What make run prints once all six answer (README.md shows it; a test compares them)."""
    return (
        f"All six services are up.\n\n{table()}\n\n{demo_logins()}\n\n"
        "Press Ctrl-C to stop them all."
    )


def main() -> None:
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    missing = wait_until_healthy()
    if missing:
        sys.exit(
            f"Not healthy after {READY_TIMEOUT_SECONDS} s: {', '.join(missing)}; see their lines above."
        )
    sys.stdout.write(f"\n{banner()}\n")
    sys.stdout.flush()
    while True:
        signal.pause()


if __name__ == "__main__":
    main()
