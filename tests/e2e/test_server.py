"""The shop's server (granian through shop_common.server) keeps what the shop relies on: a stop
(SIGTERM, Ctrl-C) finishes the requests in flight, a hung worker is replaced, connections stay
open longer than clients' pools reuse them and after answers that did not read the body, metrics
add up across workers (dead ones too), one access line per request written by the shop, and the
body limit answered before the body.

One product service with two workers; its user service is a stand-in in this process that holds
a validation until the test lets it go, so a request can be caught in flight."""

import contextlib
import json
import os
import re
import secrets
import select
import signal
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest
from prometheus_client.mmap_dict import MmapedDict

from shop_common import service_client
from shop_common.processes import ServiceProcess
from shop_common.server import GRACEFUL_SECONDS
from shop_common.testing.stack import Stack, free_port
from shop_common.topology import SERVICES_BY_NAME
from tests.e2e.helpers import REPO_ROOT, eventually

PRODUCT = SERVICES_BY_NAME["product"]
METRICS_TOKEN = "metrics-token-of-the-server-tests"
WORKER_TIMEOUT = 3.0


class HeldUserService:
    """Answers POST /auth/validate/ with 401, each answer held until ``release`` is set;
    ``entered`` is set when a validation arrives."""

    def __init__(self) -> None:
        self.entered = threading.Event()
        self.release = threading.Event()
        held = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                held.entered.set()
                held.release.wait(timeout=60)
                body = json.dumps(
                    {"error": {"code": "invalid_token", "message": "no", "details": {}}}
                ).encode()
                self.send_response(401)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def close(self) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="module")
def user_service():
    held = HeldUserService()
    yield held
    held.close()


@pytest.fixture(scope="module")
def stack(tmp_path_factory, user_service):
    workdir = tmp_path_factory.mktemp("server")
    (workdir / "metrics").mkdir()
    shop = Stack(
        repo_root=REPO_ROOT,
        workdir=workdir,
        services=(PRODUCT,),
        base_env={
            **os.environ,
            "USER_SERVICE_URL": user_service.url,
            "PROMETHEUS_MULTIPROC_DIR": str(workdir / "metrics"),
            "METRICS_TOKEN": METRICS_TOKEN,
            # No tokens to fetch from the stand-in, and time enough to hold a request.
            "SERVICE_TOKEN_WARMUP_SECONDS": "0",
            "REQUEST_BUDGET_SECONDS": "60",
        },
        settings={"SERVICE_HTTP_READ_TIMEOUT": 60.0, "AUTH_CACHE_TTL": 0},
        schema_prefix="e2e_server_",
        demo_data=True,
    )
    try:
        shop.start()
        yield shop
    finally:
        shop.stop()


def live_workers(main_pid: int) -> set[int]:
    workers = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue
        state, ppid = text[text.rindex(")") + 2 :].split()[:2]
        if int(ppid) == main_pid and state not in ("Z", "X"):
            workers.add(int(stat.parent.name))
    return workers


def fresh_token() -> str:
    """Shaped like a user's OAuth2 token, new each time (a refused token is remembered): the
    product service asks the user service about it."""
    return secrets.token_hex(15)


def scraped_categories(url: str) -> float:
    """The category list's answers as /metrics adds them up over the workers' files."""
    text = httpx.get(
        f"{url}/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"}, timeout=10
    ).text
    return sum(
        float(line.rsplit(" ", 1)[1])
        for line in text.splitlines()
        if line.startswith("shop_http_requests_total{") and "Category" in line
    )


def categories_counted_by(folder: Path, pid: int) -> float:
    """The category list's answers in one worker's own metric file."""
    path = folder / f"counter_{pid}.db"
    if not path.exists():
        return 0.0
    return sum(
        value
        for key, value, *_ in MmapedDict.read_all_values_from_file(str(path))
        if "shop_http_requests_total" in key and "Category" in key
    )


def serve_categories_until_each_worker_has(url: str, folder: Path, main: int) -> set[int]:
    """Category lists on new connections until every live worker has answered some (a new worker
    listens only once it has loaded the application)."""

    def round_of_requests() -> set[int]:
        for _ in range(10):
            assert httpx.get(f"{url}/category/", timeout=10).status_code == 200
        return live_workers(main)

    return eventually(
        round_of_requests,
        lambda pids: len(pids) == 2 and all(categories_counted_by(folder, p) for p in pids),
        timeout=60,
    )


def refuses_connections(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
    except OSError:
        return True
    return False


@contextlib.contextmanager
def own_server(stack: Stack, folder: Path, **env: str) -> Iterator[ServiceProcess]:
    """The stack's product service once more, on a port, a metrics directory and a log of its own
    (a server empties the metrics directory it is given as it starts), for a test that stops or
    kills its processes: granian stops a whole server whose worker dies twice within a few seconds
    of being replaced, so no two such tests share one."""
    (folder / "metrics").mkdir()
    server = ServiceProcess(
        PRODUCT,
        REPO_ROOT / PRODUCT.folder,
        free_port(),
        {**stack.envs["product"], "PROMETHEUS_MULTIPROC_DIR": str(folder / "metrics"), **env},
        workers=2,
        log_path=folder / "product.log",
        worker_timeout=WORKER_TIMEOUT,
    )
    server.start()
    try:
        server.wait_until_healthy()
        yield server
    finally:
        server.stop()


@pytest.mark.parametrize(
    "stop",
    [
        pytest.param(lambda pid: os.kill(pid, signal.SIGTERM), id="sigterm"),
        # A terminal's Ctrl-C goes to the whole foreground process group.
        pytest.param(lambda pid: os.killpg(pid, signal.SIGINT), id="ctrl-c"),
        pytest.param(lambda pid: os.killpg(pid, signal.SIGTERM), id="group-term"),
    ],
)
def test_a_stop_finishes_the_request_in_flight(stack, user_service, stop, tmp_path):
    with own_server(stack, tmp_path) as server:
        user_service.entered.clear()
        user_service.release.clear()
        answer: dict[str, httpx.Response] = {}

        def in_flight() -> None:
            answer["response"] = httpx.post(
                f"{server.url}/products/",
                json={},
                headers={"Authorization": f"Bearer {fresh_token()}"},
                timeout=60,
            )

        client = threading.Thread(target=in_flight)
        client.start()
        try:
            assert user_service.entered.wait(timeout=30), "the request never reached its view"
            stop(server.process.pid)
            assert eventually(lambda: refuses_connections(server.port), bool, timeout=15)
        finally:
            user_service.release.set()
            client.join(timeout=30)

        response = answer["response"]
        assert response.status_code == 401, response.text
        assert response.json()["error"]["code"]
        assert response.headers["X-Request-ID"]
        assert server.process.wait(timeout=30) == 0


def test_a_hung_worker_is_replaced(stack, tmp_path):
    with own_server(stack, tmp_path) as server:
        main = server.process.pid
        before = live_workers(main)
        assert len(before) == 2
        hung = min(before)

        os.kill(hung, signal.SIGSTOP)  # alive, its connections accepted, nothing answered
        after = eventually(
            lambda: live_workers(main), lambda pids: hung not in pids and len(pids) == 2, timeout=30
        )

        assert hung not in after
        assert len(after) == 2
        (new,) = after - before
        serving = serve_categories_until_each_worker_has(server.url, tmp_path / "metrics", main)
        assert new in serving
        assert categories_counted_by(tmp_path / "metrics", new) > 0


def test_workers_stop_when_their_main_process_is_killed(stack, tmp_path):
    with own_server(stack, tmp_path) as server:
        workers = live_workers(server.process.pid)
        assert len(workers) == 2

        os.kill(server.process.pid, signal.SIGKILL)

        assert eventually(lambda: workers & running(), lambda left: not left) == set()


def running() -> set[int]:
    alive = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            if ") Z " not in stat.read_text():
                alive.add(int(stat.parent.name))
        except OSError:
            continue
    return alive


def test_metrics_add_up_across_workers_and_keep_the_counts_of_dead_ones(stack, tmp_path):
    with own_server(stack, tmp_path) as server:
        folder, main = tmp_path / "metrics", server.process.pid
        workers = serve_categories_until_each_worker_has(server.url, folder, main)
        per_worker = {pid: categories_counted_by(folder, pid) for pid in workers}
        assert all(per_worker.values())
        total = scraped_categories(server.url)
        assert total >= sum(per_worker.values())

        victim = min(workers)
        os.kill(victim, signal.SIGKILL)
        eventually(
            lambda: live_workers(main),
            lambda pids: victim not in pids and len(pids) == 2,
            timeout=30,
        )

        assert categories_counted_by(folder, victim) == per_worker[victim]
        assert scraped_categories(server.url) == total


def test_the_gauges_of_a_dead_worker_stop_counting(stack, tmp_path):
    # A user service that is not there: the workers' breakers open (a livemax gauge).
    with own_server(stack, tmp_path, USER_SERVICE_URL=f"http://127.0.0.1:{free_port()}") as server:
        folder, main = tmp_path / "metrics", server.process.pid
        with_gauge = eventually(
            lambda: open_breakers(server.url, folder, main), lambda pids: bool(pids), timeout=60
        )
        assert with_gauge, "no worker wrote a live gauge"
        victim = min(with_gauge)

        os.kill(victim, signal.SIGKILL)

        assert (
            eventually(
                lambda: (folder / f"gauge_livemax_{victim}.db").exists(),
                lambda exists: not exists,
            )
            is False
        )


def open_breakers(url: str, folder: Path, main: int) -> set[int]:
    """A few calls that fail to reach the user service; the workers that have written a livemax
    gauge (their breaker opened)."""
    for _ in range(4):
        httpx.post(
            f"{url}/products/",
            json={},
            headers={"Authorization": f"Bearer {fresh_token()}"},
            timeout=30,
        )
    return {pid for pid in live_workers(main) if (folder / f"gauge_livemax_{pid}.db").exists()}


def request_on(connection: socket.socket, path: str) -> bytes:
    connection.sendall(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode())
    return connection.recv(65536)


# How long clients' pools reuse an idle connection: the services' own, and httpx's default.
CLIENT_KEEPALIVE_SECONDS = max(service_client.KEEPALIVE_SECONDS, httpx.Limits().keepalive_expiry)


def test_an_idle_connection_outlives_the_callers_reuse_window(stack):
    port = stack.processes["product"].port
    with socket.create_connection(("127.0.0.1", port), timeout=10) as connection:
        assert request_on(connection, "/health/").startswith(b"HTTP/1.1 200")
        # The idle time itself is what is tested: a caller's pool reuses a connection this long.
        threading.Event().wait(CLIENT_KEEPALIVE_SECONDS + 1)

        assert request_on(connection, "/health/").startswith(b"HTTP/1.1 200")


def test_an_unread_body_is_read_before_the_answer_and_the_connection_stays_open(stack):
    """An anonymous POST is a 401 before the view reads its body. The server closes a connection
    whose body was left unread, sometimes without saying so, and a client that had sent its next
    request on it got no answer: the shop reads the rest of the body before it answers."""
    port = stack.processes["product"].port
    body = b'{"name": "unread"}'
    head = (
        "POST /category/ HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    ).encode()
    with socket.create_connection(("127.0.0.1", port), timeout=10) as connection:
        for _ in range(3):
            connection.sendall(head)
            # A bounded look for an answer that must not come before the body: one that comes
            # is the server answering, and then closing, with the body still on its way.
            early, _, _ = select.select([connection], [], [], 1.0)
            assert not early, "answered before the request body arrived"
            connection.sendall(body)
            answer = read_answer(connection)
            assert answer.startswith(b"HTTP/1.1 401"), answer[:200]
            assert b"connection: close" not in answer.lower(), answer[:400]


def read_answer(connection: socket.socket) -> bytes:
    """One whole answer (head and its Content-Length of body) from a kept-alive connection."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = connection.recv(65536)
        assert chunk, f"the server closed the connection: {data[:200]!r}"
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    length = int(re.search(rb"(?i)content-length: *(\d+)", head).group(1))
    while len(rest) < length:
        chunk = connection.recv(65536)
        assert chunk, "the server closed the connection mid-answer"
        rest += chunk
    return head + b"\r\n\r\n" + rest


def test_a_stop_with_a_head_half_sent_ends_cleanly_without_killing_a_worker(stack, tmp_path):
    """A stopping worker waits for a connection that has sent part of a request's head until the
    head's time runs out (KEEPALIVE_SECONDS); past GRACEFUL_SECONDS it would be killed."""
    with own_server(stack, tmp_path) as server:
        half = socket.create_connection(("127.0.0.1", server.port), timeout=30)
        with half:
            half.sendall(b"GET /health/ HTTP/1.1\r\nHost: 127")
            os.kill(server.process.pid, signal.SIGTERM)

            assert server.process.wait(timeout=GRACEFUL_SECONDS + 5) == 0
        log = (tmp_path / "product.log").read_text()
        assert "refused to gracefully stop" not in log, log[-2000:]


def test_a_stop_does_not_wait_for_idle_connections(stack, tmp_path):
    with own_server(stack, tmp_path) as server:
        idle = socket.create_connection(("127.0.0.1", server.port), timeout=10)
        with idle:
            assert request_on(idle, "/health/").startswith(b"HTTP/1.1 200")
            os.kill(server.process.pid, signal.SIGTERM)

            # Well before the idle connection's own timeout, and without killing a worker.
            assert server.process.wait(timeout=GRACEFUL_SECONDS) == 0
            assert idle.recv(1) == b"", "the idle connection was left open"


def test_one_access_line_per_request_written_by_the_shop_without_the_query(stack):
    request_id = "server-access-line-1"
    response = httpx.get(
        f"{stack.url('product')}/category/",
        params={"token": "query-secret-7"},
        headers={"X-Request-ID": request_id},
        timeout=10,
    )
    assert response.headers["X-Request-ID"] == request_id
    log = stack.workdir / "product.log"

    lines = eventually(
        lambda: [line for line in log.read_text().splitlines() if request_id in line],
        bool,
    )

    assert len(lines) == 1
    entry = json.loads(lines[0])
    assert entry["logger"] == "shop.access"
    assert entry["path"] == "/category/"
    assert "query-secret-7" not in log.read_text()


def test_a_body_over_the_limit_is_refused_before_it_is_sent(stack):
    port = stack.processes["product"].port
    with socket.create_connection(("127.0.0.1", port), timeout=10) as connection:
        connection.sendall(
            b"POST /products/ HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            b"Content-Length: 104857600\r\n\r\n{"
        )
        head, _, body = connection.recv(65536).partition(b"\r\n\r\n")

    assert head.startswith(b"HTTP/1.1 413")
    assert b"payload_too_large" in body


def test_an_answer_goes_out_whole_with_its_length_not_chunked(stack):
    port = stack.processes["product"].port
    with socket.create_connection(("127.0.0.1", port), timeout=10) as connection:
        head = request_on(connection, "/category/").partition(b"\r\n\r\n")[0].lower()

    assert head.startswith(b"http/1.1 200")
    assert b"\r\ncontent-length: " in head
    assert b"transfer-encoding" not in head
