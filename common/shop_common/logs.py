"""JSON log lines with the request id, and redaction of anything that looks like a credential."""

import json
import logging
import logging.handlers
import os
import queue
import re
import sys
import threading
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


def redact(text: str) -> str:
    if not _MIGHT_HOLD_A_SECRET.search(text):
        return text
    for pattern, replacement in _SECRETS:
        text = pattern.sub(replacement, text)
    return text


class _Flushed(logging.LogRecord):
    """Queued behind the lines to wait for: the writer sets ``done`` when it reaches it."""

    def __init__(self) -> None:
        super().__init__("shop.logs", logging.DEBUG, __file__, 0, "", None, None)
        self.done = threading.Event()


class _Writer(logging.StreamHandler):
    def handle(self, record: logging.LogRecord) -> bool:
        if isinstance(record, _Flushed):
            record.done.set()
            return True
        return super().handle(record)


class ConsoleHandler(logging.handlers.QueueHandler):
    """Formats each line in the caller's thread and leaves the writing to a
    :class:`~logging.handlers.QueueListener` of this process, so a request never waits for the
    terminal. Writes to ``stream_path`` (``LOG_STREAM``: `make run` points it at its terminal, so
    lines do not pass through honcho) or to stderr. A WARNING or worse is written before ``emit``
    returns, so a crash right after it cannot lose it; ``logging.shutdown`` flushes the rest."""

    def __init__(self, stream_path: str = "", *, max_pending: int = 10_000) -> None:
        self.stream = (_open_for_appending(stream_path) if stream_path else None) or sys.stderr
        self.max_pending = max_pending
        # SimpleQueue: its put is C with no Python-level condition to notify, on every request.
        super().__init__(queue.SimpleQueue())
        self._listener: logging.handlers.QueueListener | None = None
        self._listener_pid = 0
        self._listener_lock = threading.Lock()

    def emit(self, record: logging.LogRecord) -> None:
        self._ensure_listener()
        super().emit(record)
        # A stream that stopped taking lines makes callers wait rather than fill the memory.
        if record.levelno >= logging.WARNING or self.queue.qsize() > self.max_pending:
            self.flush()

    def flush(self) -> None:
        if self._listener_pid == os.getpid():
            marker = _Flushed()
            self.queue.put(marker)
            marker.done.wait()

    def close(self) -> None:
        self.flush()
        super().close()

    def _ensure_listener(self) -> None:
        # A forked child (a server's worker) inherits the queue but not the thread: it starts its own.
        if self._listener_pid == os.getpid():
            return
        with self._listener_lock:
            if self._listener_pid != os.getpid():
                self.queue = queue.SimpleQueue()
                self._listener = logging.handlers.QueueListener(self.queue, _Writer(self.stream))
                self._listener.start()
                self._listener_pid = os.getpid()


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


class JsonFormatter(logging.Formatter):
    def __init__(self, *args: Any, service: str = "", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.service = service

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, tz=UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname,
            "service": self.service,
            "logger": record.name,
            "request_id": getattr(record, "request_id", None),
            "message": redact(record.getMessage()),
        }
        for key, value in vars(record).items():
            if key in _STANDARD_ATTRIBUTES or key in entry or key.startswith("_"):
                continue
            if key == "request":  # Django attaches the request object to error records
                continue
            entry[key] = (
                value if isinstance(value, int | float | bool | type(None)) else redact(str(value))
            )
        if record.exc_info:
            entry["exception"] = redact(self.formatException(record.exc_info))
        return json.dumps(entry, default=str)
