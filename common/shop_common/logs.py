"""JSON log lines with the request id, and redaction of anything that looks like a credential."""

import json
import logging
import os
import queue
import re
import sys
import threading
import time
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


class ConsoleHandler(logging.Handler):
    """Writes each formatted line to stderr, or to ``stream_path`` (``LOG_STREAM``) when set,
    from a thread of its own: a request never waits for the terminal.

    `make run` sets ``LOG_STREAM`` to its terminal (scripts/start.py), so the lines go there from
    the process that formatted them, not through honcho, which reads every line of every process,
    passes it between two processes of its own and writes it again. Measured on a cached catalog
    page (docs/decisions.md, "Performance"): the write alone was a third of a worker's time when
    the terminal (a pseudo-terminal holds 4 KiB) did not keep up. Lines queue (at most
    ``max_pending``, then the request waits after all) and are written in batches, at most one
    every ``batch_seconds`` (20 ms) while lines keep coming; a WARNING or worse is on the terminal
    before ``emit`` returns, so a crash right after it cannot lose it. ``logging.shutdown`` (at
    exit) flushes what is queued. A path that cannot be opened falls back to stderr.
    """

    def __init__(
        self, stream_path: str = "", *, max_pending: int = 10_000, batch_seconds: float = 0.02
    ) -> None:
        super().__init__()
        self.batch_seconds = batch_seconds
        self.stream = _open_for_appending(stream_path) if stream_path else None
        if self.stream is None:
            self.stream = sys.stderr
        self.max_pending = max_pending
        self._pending: queue.Queue[str] = queue.Queue(maxsize=max_pending)
        self._writer_pid = 0
        self._writer_lock = threading.Lock()

    def emit(self, record: logging.LogRecord) -> None:
        try:
            line = self.format(record) + "\n"
        except Exception:  # logging must never raise into the caller
            self.handleError(record)
            return
        self._ensure_writer()
        self._pending.put(line)
        if record.levelno >= logging.WARNING:
            self._pending.join()

    def flush(self) -> None:
        if self._writer_pid == os.getpid():
            self._pending.join()

    def _ensure_writer(self) -> None:
        # A forked child (a gunicorn worker) has the queue but not the thread: it starts its own.
        if self._writer_pid == os.getpid():
            return
        with self._writer_lock:
            if self._writer_pid != os.getpid():
                self._pending = queue.Queue(maxsize=self.max_pending)
                threading.Thread(target=self._write, name="log-writer", daemon=True).start()
                self._writer_pid = os.getpid()

    def _write(self) -> None:
        while True:
            lines = [self._pending.get()]
            while len(lines) < 4096:
                try:
                    lines.append(self._pending.get_nowait())
                except queue.Empty:
                    break
            try:
                self.stream.write("".join(lines))
                self.stream.flush()
            except (OSError, ValueError):
                pass  # the terminal is gone; nothing else could say so
            finally:
                for _ in lines:
                    self._pending.task_done()
            # Let the next lines gather: while the writer sleeps, a request's put() wakes nobody.
            # Woken for every line, the writer took the GIL, wrote and flushed once per request:
            # 15 % of a worker's GIL time on a cached catalog page; in-process, 4 threads logging
            # 20,000 lines: 49-80 us of CPU per line before, 23-35 us now (decision 247).
            if len(lines) < 4096:
                time.sleep(self.batch_seconds)


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
