"""JSON log lines with the request id, and redaction of anything that looks like a credential."""

import contextlib
import json
import logging
import multiprocessing.util
import os
import queue
import re
import sys
import threading
import time
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from typing import Any

from shop_common.request_id import current_request_id

# Bearer tokens, JWTs anywhere, and token/secret/password values in query strings or JSON bodies.
_SECRETS = (
    (re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]+"), r"\1 [redacted]"),
    (re.compile(r"eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*"), "[redacted-jwt]"),
    (
        re.compile(
            r"(?i)((?:access_?|refresh_?|id_?)?token|refresh|secret|password|authorization|api_?key)"
            r"(['\"]?\s*[:=]\s*['\"]?)[^\s&'\",}]+"
        ),
        r"\1\2[redacted]",
    ),
)

# Attributes every LogRecord has; anything else was passed through ``extra=`` and is logged.
_STANDARD_ATTRIBUTES = frozenset(
    vars(logging.LogRecord("", 0, "", 0, "", None, None)).keys() | {"message", "asctime"}
)


# Each pattern above needs one of these to match: text without any (an access line's path, most
# messages) skips the three substitutions, which were a third of the cost of formatting a line.
_MIGHT_HOLD_A_SECRET = re.compile(r"(?i)bearer|basic|eyJ|[:=]")


def _might_hold_a_secret(text: str) -> bool:
    if not text.isascii():  # (?i) also matches letters outside ASCII (U+017F for "s")
        return _MIGHT_HOLD_A_SECRET.search(text) is not None
    # The same test as the expression for ASCII text, with substring searches: the expression's
    # case-insensitive alternatives are tried at every position, the dearest part of a line.
    if ":" in text or "=" in text:
        return True
    lowered = text.lower()
    return "bearer" in lowered or "basic" in lowered or "eyj" in lowered


def redact(text: str) -> str:
    if not _might_hold_a_secret(text):
        return text
    for pattern, replacement in _SECRETS:
        text = pattern.sub(replacement, text)
    return text


class ConsoleHandler(logging.Handler):
    """Formats each line in the caller's thread and leaves the writing to a thread of this process,
    so a request never waits for the terminal. Writes to ``stream_path`` (``LOG_STREAM``: `make run`
    points it at its terminal, so lines do not pass through honcho) or to stderr. A WARNING or
    worse is written before ``emit`` returns, so a crash right after it cannot lose it;
    ``logging.shutdown`` flushes the rest.

    The queue carries the formatted text, and the writer takes what has come every
    ``WRITE_EVERY`` seconds, in one write: the standard library's QueueHandler copies each record
    for its listener, whose thread is woken by every line and writes and flushes them one by one
    (a wake-up of a thread that then waits for the GIL, on every request)."""

    WRITE_EVERY = 0.05

    def __init__(self, stream_path: str = "", *, max_pending: int = 10_000) -> None:
        super().__init__()
        self.stream = (_open_for_appending(stream_path) if stream_path else None) or sys.stderr
        self.max_pending = max_pending
        # SimpleQueue: its put is C, and wakes no one while the writer is not waiting in get().
        self.queue: queue.SimpleQueue = queue.SimpleQueue()
        # Released to have the writer write now (a flush) rather than at its next turn.
        self._wake = threading.Lock()
        self._writer_pid = 0
        self._writer_lock = threading.Lock()

    def handle(self, record: logging.LogRecord) -> bool:
        # Without Handler.handle's lock: formatting needs none and the queue has its own.
        if not self.filter(record):
            return False
        self.emit(record)
        return True

    def emit(self, record: logging.LogRecord) -> None:
        try:
            line = self.format(record)
        except Exception:
            self.handleError(record)
            return
        if self._writer_pid != os.getpid():
            self._start_writer()
        self.queue.put(line)
        # A stream that stopped taking lines makes callers wait rather than fill the memory.
        if record.levelno >= logging.WARNING or self.queue.qsize() > self.max_pending:
            self.flush()

    def flush(self) -> None:
        """Returns once every line queued before it is written."""
        if self._writer_pid == os.getpid():
            written = threading.Event()
            self.queue.put(written)
            with contextlib.suppress(RuntimeError):  # already released: the writer is coming
                self._wake.release()
            written.wait()

    def close(self) -> None:
        self.flush()
        super().close()

    def _start_writer(self) -> None:
        # A forked child (a server's worker) inherits the queue but not the thread: it starts its own.
        with self._writer_lock:
            if self._writer_pid != os.getpid():
                self.queue = queue.SimpleQueue()
                self._wake = threading.Lock()
                self._wake.acquire()
                threading.Thread(
                    target=self._write, args=(self.queue, self._wake), daemon=True
                ).start()
                self._writer_pid = os.getpid()
                # A server's worker is a multiprocessing child: it ends with os._exit, after its
                # finalizers but without logging.shutdown, so the lines still queued are written here.
                multiprocessing.util.Finalize(self, self.flush, exitpriority=10)

    def _write(self, pending: queue.SimpleQueue, wake: threading.Lock) -> None:
        """The writer thread: every line waiting, in order, in one write; then the flushes that
        waited behind them are told."""
        while True:
            wake.acquire(timeout=self.WRITE_EVERY)
            items = []
            with contextlib.suppress(queue.Empty):
                while True:
                    items.append(pending.get_nowait())
            for text in _chunks(item for item in items if type(item) is str):
                try:
                    self.stream.write(text)
                    self.stream.flush()
                except Exception:
                    self.handleError(logging.makeLogRecord({"msg": text}))
            for item in items:
                if type(item) is not str:
                    item.set()


# A pipe keeps a write of at most this many bytes whole: the workers of a server share one stderr,
# and a longer write could be cut by another process's lines.
PIPE_BUF = 4096


def _chunks(lines: Iterable[str]) -> Iterator[str]:
    """Whole lines, each followed by a newline, gathered into writes of at most ``PIPE_BUF``
    bytes; a longer line is a write of its own."""
    chunk: list[str] = []
    size = 0
    for line in lines:
        line_size = len(line.encode()) + 1
        if chunk and size + line_size > PIPE_BUF:
            yield "".join(chunk)
            chunk, size = [], 0
        chunk.append(f"{line}\n")
        size += line_size
    if chunk:
        yield "".join(chunk)


def _open_for_appending(path: str) -> Any:
    try:
        # O_NOCTTY: a terminal opened by a session leader would become its controlling terminal.
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_NOCTTY)
    except OSError:
        return None
    return open(fd, "w", encoding="utf-8")  # open for the process's lifetime


class RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = current_request_id()
        return True


class AccessRecord(logging.LogRecord):
    """The record of a request's access line (shop_common.edge), made without what
    ``Logger.info`` does for any record: finding the caller's frame, the source file's name and
    module, the thread's and process's names (None, as with logging's ``logThreads`` off). What is
    the same for every line is made once (``_ACCESS``). ``fields`` go in the line after the
    message, in their order."""

    def __init__(self, fields: dict[str, Any]) -> None:
        attributes = self.__dict__
        attributes.update(_ACCESS)
        self.created = created = time.time()
        self.msecs = int((created - int(created)) * 1000) + 0.0
        self.relativeCreated = (created - _STARTED) * 1000
        self.thread = threading.get_ident()
        self.process = os.getpid()
        self.args = (fields["method"], fields["path"], fields["status"])
        attributes.update(fields)


_ACCESS = dict(
    vars(
        logging.LogRecord(
            "shop.access", logging.INFO, "shop_common/edge.py", 0, "%s %s %s", (), None, "log"
        )
    ),
    threadName=None,
    processName=None,
)
_STARTED = logging._startTime  # what relativeCreated counts from


# Values a line keeps as they are; anything else is written as its (redacted) text.
_PLAIN = (int, float, bool, type(None))
# json.dumps(entry, default=str) makes a new encoder for every line.
_encode = json.JSONEncoder(default=str).encode


class JsonFormatter(logging.Formatter):
    def __init__(self, *args: Any, service: str = "", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.service = service
        self._second = (0, "")  # the last second written and its text, reused within it

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": self._time(record.created),
            "level": record.levelname,
            "service": self.service,
            "logger": record.name,
            "request_id": getattr(record, "request_id", None),
            "message": redact(record.getMessage()),
        }
        for key, value in vars(record).items():
            if key in _NOT_EXTRA or key.startswith("_"):
                continue
            entry[key] = value if isinstance(value, _PLAIN) else redact(str(value))
        if record.exc_info:
            entry["exception"] = redact(self.formatException(record.exc_info))
        return _encode(entry)

    def _time(self, created: float) -> str:
        """``datetime.fromtimestamp(created, UTC).isoformat(timespec="milliseconds")``, with the
        date and time of day made once a second (the same rounding to the microsecond)."""
        second = int(created)
        microsecond = round((created - second) * 1e6)
        if microsecond >= 1_000_000:
            second, microsecond = second + 1, microsecond - 1_000_000
        last, text = self._second
        if last != second:
            text = datetime.fromtimestamp(second, tz=UTC).replace(tzinfo=None).isoformat()
            self._second = (second, text)
        return f"{text}.{microsecond // 1000:03d}+00:00"


# A record's own attributes, the entry's fields, and the request object Django attaches to error
# records: not written as extra fields.
_NOT_EXTRA = _STANDARD_ATTRIBUTES | {"time", "level", "service", "logger", "request_id", "request"}
