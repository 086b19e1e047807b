import io
import json
import logging
import multiprocessing
import os
import subprocess
import sys
import threading
from datetime import UTC, datetime

import pytest
from django.db import connection

from shop_common import logs
from shop_common.logs import PIPE_BUF, ConsoleHandler, JsonFormatter, RequestIdFilter, redact
from shop_common.testing.waiting import eventually

JWT = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl"


@pytest.fixture
def json_log_lines():
    """Every line the shop's JSON handler would write, as parsed dicts."""
    lines: list[dict] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            lines.append(json.loads(self.format(record)))

    handler = Collect()
    handler.addFilter(RequestIdFilter())
    handler.setFormatter(JsonFormatter(service="library"))
    root = logging.getLogger()
    root.addHandler(handler)
    yield lines
    root.removeHandler(handler)


def test_request_id_is_generated_when_the_caller_sends_none(client):
    request_id = client.get("/echo/").headers["X-Request-ID"]

    assert len(request_id) == 32
    assert request_id != client.get("/echo/").headers["X-Request-ID"]


def test_callers_request_id_is_returned(client):
    assert (
        client.get("/echo/", HTTP_X_REQUEST_ID="abc-123.x").headers["X-Request-ID"] == "abc-123.x"
    )


@pytest.mark.parametrize("unsafe", ["two\nlines", "<script>", "x" * 129, "has space"])
def test_unsafe_request_id_is_replaced(client, unsafe):
    returned = client.get("/echo/", HTTP_X_REQUEST_ID=unsafe).headers["X-Request-ID"]

    assert returned != unsafe
    assert len(returned) == 32


def test_every_log_line_of_a_request_carries_its_id(api_client, json_log_lines):
    api_client.post("/echo/", {"quantity": 1, "price": "2.00"}, HTTP_X_REQUEST_ID="trace-me")

    ours = [line for line in json_log_lines if line["logger"] in {"tests.views", "shop.access"}]
    assert {line["logger"] for line in ours} == {"tests.views", "shop.access"}
    assert all(line["request_id"] == "trace-me" for line in ours)
    assert all(line["service"] == "library" for line in ours)


def test_access_line_has_method_path_status_and_duration(client, json_log_lines):
    client.get("/echo/")

    (access,) = [line for line in json_log_lines if line["logger"] == "shop.access"]
    assert access["method"] == "GET"
    assert access["path"] == "/echo/"
    assert access["status"] == 405
    assert access["duration_ms"] >= 0


def test_no_statement_count_unless_asked(client, json_log_lines, db):
    client.get("/sql/")

    (access,) = [line for line in json_log_lines if line["logger"] == "shop.access"]
    assert "db_queries" not in access
    assert "db_statements" not in access


@pytest.mark.django_db(transaction=True)
def test_the_access_line_counts_statements_and_begins(client, json_log_lines, settings):
    """COUNT_SQL_QUERIES: the statements and, among them, the BEGINs (SQLite's transaction start
    is one; MariaDB's is a driver call the counter never sees: tests/e2e/test_query_budget.py)."""
    settings.COUNT_SQL_QUERIES = True
    if connection.vendor != "sqlite":  # (SQLite's test database lives in its connection)
        connection.close()  # a new connection's setup statements are not the request's

    client.get("/sql/")

    (access,) = [line for line in json_log_lines if line["logger"] == "shop.access"]
    begins = 1 if connection.vendor == "sqlite" else 0
    assert (access["db_queries"], access["db_begins"]) == (2 + begins, begins)
    assert "db_statements" not in access


@pytest.mark.django_db(transaction=True)
def test_log_sql_statements_lists_each_statement_without_its_parameters(
    client, json_log_lines, settings
):
    settings.LOG_SQL_STATEMENTS = True
    client.get("/sql/")

    (access,) = [line for line in json_log_lines if line["logger"] == "shop.access"]
    statements = access["db_statements"].split("\n")
    assert statements[-2:] == ["SELECT %s", "SELECT 1 + 1"]  # one line each, spaces folded
    assert access["db_queries"] == len(statements)
    assert "parameter-never-logged" not in json.dumps(json_log_lines)


def test_tokens_never_reach_the_log(client, json_log_lines):
    client.get(
        f"/echo/?token={JWT}&next=1",
        HTTP_AUTHORIZATION=f"Bearer {JWT}",
    )
    logging.getLogger("tests").warning(
        "refresh=%s header=Bearer %s", "r-secret-1", "opaque-secret-2"
    )

    written = json.dumps(json_log_lines)
    assert JWT not in written
    assert "r-secret-1" not in written
    assert "opaque-secret-2" not in written


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        (f"Authorization: Bearer {JWT}", JWT),
        ("Bearer opaque.token-value", "opaque.token-value"),
        (f"GET /auth/validate_token?token={JWT}", JWT),
        ('{"password": "hunter2", "email": "a@b.c"}', "hunter2"),
        ("{'refresh': 'abc.def'}", "abc.def"),
        ("client_secret=s3cr3t&grant_type=client_credentials", "s3cr3t"),
        (f"something {JWT} inside", JWT),
    ],
)
def test_redact_hides_credentials(text, secret):
    assert secret not in redact(text)


def test_redact_keeps_ordinary_text():
    assert redact("GET /products/?page=2 200") == "GET /products/?page=2 200"


def test_exceptions_are_logged_as_one_json_line_with_the_traceback(json_log_lines):
    try:
        raise ValueError(f"boom with Bearer {JWT}")
    except ValueError:
        logging.getLogger("tests").exception("failed")

    (line,) = [line for line in json_log_lines if line["logger"] == "tests"]
    assert "ValueError" in line["exception"]
    assert JWT not in line["exception"]


def _record(level: int, message: str) -> logging.LogRecord:
    return logging.LogRecord("shop.test", level, __file__, 1, message, None, None)


def test_console_handler_writes_every_line_in_order_to_the_stream_it_is_given(tmp_path):
    path = tmp_path / "terminal"
    path.touch()
    handler = ConsoleHandler(str(path))
    for number in range(200):
        handler.emit(_record(logging.INFO, f"line {number}"))
    handler.flush()

    assert path.read_text().splitlines() == [f"line {number}" for number in range(200)]


def test_a_warning_is_written_before_emit_returns(tmp_path):
    path = tmp_path / "terminal"
    path.touch()
    handler = ConsoleHandler(str(path))
    handler.emit(_record(logging.INFO, "queued"))
    handler.emit(_record(logging.WARNING, "at once"))

    assert path.read_text().splitlines() == ["queued", "at once"]


def test_a_forked_worker_writes_its_lines_from_a_writer_of_its_own(tmp_path):
    """A server forks its workers after the logging is configured: the child's lines must still
    reach the stream (the parent's writer thread does not exist in the child)."""
    path = tmp_path / "terminal"
    path.touch()
    handler = ConsoleHandler(str(path))
    handler.emit(_record(logging.INFO, "parent"))
    handler.flush()
    pid = os.fork()
    if pid == 0:  # the child: write one line, flush, leave without running the parent's cleanup
        handler.emit(_record(logging.INFO, "child"))
        handler.flush()
        os._exit(0)
    os.waitpid(pid, 0)

    assert path.read_text().splitlines() == ["parent", "child"]


def test_a_stream_that_stops_taking_lines_makes_callers_wait_instead_of_filling_memory():
    gate = threading.Event()
    written: list[str] = []

    class StuckTerminal:
        def write(self, text: str) -> None:
            gate.wait()
            written.append(text)

        def flush(self) -> None:
            pass

    handler = ConsoleHandler(max_pending=5)
    handler.stream = StuckTerminal()
    lines = [f"line {number}" for number in range(20)]
    emitted: list[str] = []

    def log_all() -> None:
        for line in lines:
            handler.emit(_record(logging.INFO, line))
            emitted.append(line)

    # Past max_pending queued lines the caller flushes: it waits behind a marker the stuck writer
    # never reaches, so once it is in flush it cannot log another line.
    waiting = threading.Event()
    flush = handler.flush

    def noted_flush() -> None:
        waiting.set()
        flush()

    handler.flush = noted_flush
    caller = threading.Thread(target=log_all)
    caller.start()
    assert eventually(waiting.is_set, bool)

    # In memory: the lines the writer took before it got stuck (at most max_pending + 1) and
    # max_pending + 1 more.
    assert len(emitted) <= 2 * (handler.max_pending + 1)
    assert handler.queue.qsize() <= handler.max_pending + 2
    assert caller.is_alive()
    assert written == []
    gate.set()
    caller.join()
    handler.flush()
    assert "".join(written).splitlines() == lines


def test_a_stream_path_that_cannot_be_opened_falls_back_to_stderr(tmp_path):
    handler = ConsoleHandler(str(tmp_path / "missing" / "terminal"))

    assert handler.stream is sys.stderr


def test_the_writer_goes_on_after_a_write_that_failed(tmp_path, capsys):
    path = tmp_path / "terminal"
    path.touch()
    handler = ConsoleHandler(str(path))
    stream = handler.stream

    class FailsOnce:
        def write(self, text: str) -> None:
            handler.stream = stream
            raise OSError("terminal gone")

        def flush(self) -> None:
            pass

    handler.stream = FailsOnce()
    handler.emit(_record(logging.WARNING, "lost"))
    handler.emit(_record(logging.WARNING, "written"))

    assert path.read_text().splitlines() == ["written"]
    assert "terminal gone" in capsys.readouterr().err  # logging's report of a failed write


def test_the_time_is_datetimes_isoformat_to_the_millisecond():
    formatter = JsonFormatter()
    moments = [
        1_765_000_000.0,
        1_765_000_000.9995,
        1_765_000_000.9999996,  # rounds up to the next second
        1_765_000_000.0004999,
        1_765_000_059.123456,
        *(1_765_000_000 + number / 97 for number in range(300)),
    ]
    for created in moments:
        record = _record(logging.INFO, "x")
        record.created = created

        expected = datetime.fromtimestamp(created, tz=UTC).isoformat(timespec="milliseconds")
        assert json.loads(formatter.format(record))["time"] == expected, created


@pytest.mark.parametrize(
    "text",
    [
        "GET /products/?page=2 200",
        "POST /auth/validate/ 200",
        "BEARER x",
        "Basic x",
        "a=b",
        "key: value",
        "xeyJ",
        "EYJ",
        "no secrets here",
        "ba\u017fic x",  # a long s, which (?i) matches as "s"
        "Bearer déjà",
        "ümlaut only",
        "",
    ],
)
def test_the_fast_check_for_secrets_answers_as_the_expression(text):
    assert logs._might_hold_a_secret(text) == bool(logs._MIGHT_HOLD_A_SECRET.search(text))


@pytest.mark.parametrize(
    "fields",
    [
        {"method": "GET", "path": "/products/", "status": 200, "duration_ms": 1.5},
        {"method": "POST", "path": "/a=b/", "status": 404, "duration_ms": 0.0},
        {
            "method": "PATCH",
            "path": "/orders/7/",
            "status": 500,
            "duration_ms": 12.25,
            "db_queries": 3,
            "db_begins": 1,
            "db_statements": 'SELECT 1\nUPDATE "x" SET "token" = %s',
        },
    ],
)
def test_an_access_record_makes_the_line_logger_info_made(fields):
    """The edge's record against what ``access_log.info(..., extra=...)`` made, field by field."""
    logger = logging.getLogger("shop.access")
    ours = logs.AccessRecord({**fields, "request_id": "r-1"})
    theirs = logger.makeRecord(
        logger.name,
        logging.INFO,
        "edge.py",
        1,
        "%s %s %s",
        (fields["method"], fields["path"], fields["status"]),
        None,
        extra={**fields, "request_id": "r-1"},
    )
    theirs.created = ours.created
    formatter = JsonFormatter(service="user")

    ours_line = formatter.format(ours)
    assert json.loads(ours_line) == json.loads(formatter.format(theirs))
    assert list(json.loads(ours_line)) == list(json.loads(formatter.format(theirs)))
    # Any other formatter finds every attribute a record has.
    assert (
        logging.Formatter(
            "%(asctime)s %(levelname)s %(name)s %(module)s:%(lineno)d %(threadName)s %(message)s"
        )
        .format(ours)
        .endswith(f"INFO shop.access edge:0 None {ours.getMessage()}")
    )


def test_lines_still_waiting_are_written_when_the_process_exits(tmp_path):
    """The writer writes every WRITE_EVERY seconds: lines logged just before a normal exit are
    written by logging's shutdown (its flush), not lost with the daemon thread."""
    path = tmp_path / "terminal"
    path.touch()
    script = (
        "import logging\n"
        "from shop_common.logs import ConsoleHandler\n"
        f"handler = ConsoleHandler({str(path)!r})\n"
        "handler.WRITE_EVERY = 3600\n"
        "logging.getLogger().addHandler(handler)\n"
        "logging.getLogger().setLevel(logging.INFO)\n"
        "for number in range(50):\n"
        "    logging.getLogger('shop.test').info('line %d', number)\n"
    )
    subprocess.run(  # noqa: S603 (our own interpreter, a fixed script)
        [sys.executable, "-c", script], check=True, timeout=60
    )

    assert path.read_text().splitlines() == [f"line {number}" for number in range(50)]


def test_a_server_workers_lines_still_waiting_are_written_when_it_stops(tmp_path):
    """A server's worker is a multiprocessing child: it ends with os._exit after its finalizers,
    without logging's shutdown; the lines it logged just before must still be written."""
    path = tmp_path / "terminal"
    path.touch()
    handler = ConsoleHandler(str(path))
    handler.WRITE_EVERY = 3600

    def worker() -> None:
        for number in range(20):
            handler.emit(_record(logging.INFO, f"line {number}"))

    child = multiprocessing.get_context("fork").Process(target=worker)
    child.start()
    child.join(timeout=60)

    assert child.exitcode == 0
    assert path.read_text().splitlines() == [f"line {number}" for number in range(20)]


def test_the_writer_keeps_each_write_within_what_a_pipe_keeps_whole(tmp_path):
    """The workers share one stderr: a write longer than PIPE_BUF could be cut by another
    worker's lines, so lines are written in whole-line chunks of at most PIPE_BUF bytes."""
    writes: list[str] = []

    class Recording(io.StringIO):
        def write(self, text: str) -> int:
            writes.append(text)
            return len(text)

    handler = ConsoleHandler()
    handler.stream = Recording()
    handler.WRITE_EVERY = 3600
    long_line = "y" * (PIPE_BUF + 10)
    for number in range(200):
        handler.emit(_record(logging.INFO, f"{number:03d} " + "x" * 296))
    handler.emit(_record(logging.INFO, long_line))
    handler.flush()

    assert all(write.endswith("\n") for write in writes)
    assert all(len(write.encode()) <= PIPE_BUF or write.count("\n") == 1 for write in writes)
    assert len(writes) > 10  # 60 KB of lines: many writes, none cut inside a line
    assert "".join(writes).splitlines()[-1] == long_line
    assert len("".join(writes).splitlines()) == 201
