import contextlib
import os
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from socketserver import ThreadingMixIn
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import pytest

from shop_common.testing.stack import free_port

pytest_plugins = ["shop_common.testing.fixtures"]

# The offline provider sandboxes are development tools beside the services (never in the image);
# the suite runs them in this process.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "sandboxes"))


class _ThreadingWSGIServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@contextlib.contextmanager
def _serving(application, port: int) -> Iterator[None]:
    """``application`` (a sandbox's WSGI app) on a real socket, in threads of this process."""
    server = make_server(
        "127.0.0.1",
        port,
        application,
        server_class=_ThreadingWSGIServer,
        handler_class=_QuietHandler,
    )
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield
    finally:
        server.shutdown()


@pytest.fixture(scope="session")
def sandbox_server():
    """The offline Stripe sandbox on a real socket, in this process (tests can read its state).
    Its webhook deliveries go nowhere here (a closed port, one attempt): tests post events themselves."""
    from stripe_sandbox.app import SANDBOX, application

    # The settings are read already: these reach the sandbox only.
    os.environ["PAYMENT_SERVICE_URL"] = f"http://127.0.0.1:{free_port()}"
    SANDBOX.retry_delays = [0]
    port = free_port()
    os.environ["STRIPE_API_BASE"] = f"http://127.0.0.1:{port}"
    with _serving(application, port):
        yield f"http://127.0.0.1:{port}", SANDBOX


@pytest.fixture
def sandbox(sandbox_server, settings, http_mock):
    """The payment service pointed at the sandbox (calls to it pass the HTTP mock untouched)."""
    url, state = sandbox_server
    settings.STRIPE_API_BASE = url
    settings.STRIPE_SECRET_KEY = "sk_test_suite"  # noqa: S105 (the sandbox takes any sk_test_)
    http_mock.route(url__startswith=url).pass_through()
    return state


@pytest.fixture(scope="session")
def razorpay_sandbox_server():
    """The offline Razorpay sandbox on a real socket, in this process; its deliveries go nowhere
    (a closed port, one attempt): tests post events themselves."""
    from razorpay_sandbox.app import SANDBOX, application

    os.environ["PAYMENT_SERVICE_URL"] = f"http://127.0.0.1:{free_port()}"
    SANDBOX.retry_delays = [0]
    os.environ["RAZORPAY_KEY_ID"] = "rzp_test_suite"
    os.environ["RAZORPAY_KEY_SECRET"] = "razorpay_key_secret_suite"  # noqa: S105 (a test key)
    port = free_port()
    os.environ["RAZORPAY_API_BASE"] = f"http://127.0.0.1:{port}"
    with _serving(application, port):
        yield f"http://127.0.0.1:{port}", SANDBOX


@pytest.fixture
def razorpay_sandbox(razorpay_sandbox_server, settings, http_mock):
    """The payment service pointed at the Razorpay sandbox (its calls pass the HTTP mock: the SDK
    uses requests, which respx does not see, so nothing to route)."""
    url, state = razorpay_sandbox_server
    settings.RAZORPAY_API_BASE = url
    settings.RAZORPAY_KEY_ID = "rzp_test_suite"
    settings.RAZORPAY_KEY_SECRET = "razorpay_key_secret_suite"  # noqa: S105 (a test key)
    return state


@pytest.fixture
def order_id(order_service):
    """A PENDING order of customer 41 (the shared ``customer``) on the fake order service."""
    return order_service.add(user_id=41, total="53.20")
