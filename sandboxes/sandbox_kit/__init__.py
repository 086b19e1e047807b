"""What the offline provider sandboxes (``stripe_sandbox``, ``razorpay_sandbox``) share: JSON, HTML
and redirect answers, the parts of a request, on/off flags from the environment, and webhook delivery with retries until a 2xx."""

import json
import logging
import os
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from typing import Any

logger = logging.getLogger("sandbox")

Start = Callable[[str, list[tuple[str, str]]], Any]


def setting(name: str, default: str) -> str:
    """Read on each use: the tests change the environment of a running sandbox."""
    return os.environ.get(name, default)


def flag(name: str) -> bool:
    return setting(name, "False").strip().lower() in ("true", "1", "yes", "on")


def json_answer(start: Start, status: int, body: Any) -> list[bytes]:
    start(f"{status} {'OK' if status < 400 else 'Error'}", [("Content-Type", "application/json")])
    return [json.dumps(body).encode()]


# The hosted pages are HTML with an inline style and two forms that post back here (then a 303 to
# the shop's landing page): nothing else may load, run or frame them.
PAGE_SECURITY_POLICY = (
    "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; frame-ancestors 'none'"
)


def html_answer(start: Start, text: str) -> list[bytes]:
    start(
        "200 OK",
        [
            ("Content-Type", "text/html; charset=utf-8"),
            ("Content-Security-Policy", PAGE_SECURITY_POLICY),
            ("X-Frame-Options", "DENY"),
        ],
    )
    return [text.encode()]


def redirect(start: Start, location: str) -> list[bytes]:
    start("303 See Other", [("Location", location)])
    return [b""]


def request_parts(environ: dict[str, Any]) -> tuple[str, str, bytes]:
    """The method, the path and the whole body of a WSGI request."""
    length = int(environ.get("CONTENT_LENGTH") or 0)
    body = environ["wsgi.input"].read(length) if length else b""
    return environ["REQUEST_METHOD"], environ.get("PATH_INFO", ""), body


# Seconds before each delivery attempt of one event, like the providers' own back-off but shorter.
DELIVERY_RETRY_DELAYS = (0.0, 1.0, 2.0, 4.0, 8.0, 16.0, 30.0, 60.0)


def public_url(provider: str, default: str) -> str:
    """The sandbox's own address, for the hosted page's link: where the payment service's SDK
    reaches it (``<PROVIDER>_API_BASE``)."""
    return setting(f"{provider.upper()}_API_BASE", default).rstrip("/")


def webhook_url(provider: str) -> str:
    """Where the sandbox delivers events: the payment service's webhook for ``provider``."""
    service = setting("PAYMENT_SERVICE_URL", "http://127.0.0.1:8010").rstrip("/")
    return f"{service}/webhook/{provider}/"


def deliver(
    url: str,
    payload: bytes,
    headers: Callable[[], dict[str, str]],
    *,
    delays: list[float],
    record: dict[str, Any],
) -> None:
    """POSTs ``payload`` to ``url`` after each delay until a 2xx; ``headers()`` is called per attempt
    (a signature may carry the time). Each attempt's status (0: no answer) goes to ``record``."""
    for delay in delays:
        time.sleep(delay)
        request = urllib.request.Request(  # noqa: S310 (a configured http(s) URL)
            url,
            data=payload,
            method="POST",
            headers={"Content-Type": "application/json", **headers()},
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
                status = response.status
        except urllib.error.HTTPError as error:
            status = error.code
        except OSError:
            status = 0
        record["attempts"].append(status)
        if 200 <= status < 300:
            record["delivered"] = True
            return
        logger.warning("Webhook %s answered %s; retrying", record.get("event_id"), status)
