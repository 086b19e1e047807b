"""X-Request-ID: taken from the request when it is sane, made up otherwise, returned, logged, forwarded
(bound for each request by shop_common.edge)."""

import contextlib
import logging
import re
import uuid
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from typing import Any

HEADER = "X-Request-ID"
# Where WSGI puts it: read there, request.headers would be built from every header of the request.
META_KEY = "HTTP_X_REQUEST_ID"
_VALID_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
_current: ContextVar[str | None] = ContextVar("request_id", default=None)

access_log = logging.getLogger("shop.access")


def current_request_id() -> str | None:
    return _current.get()


@contextlib.contextmanager
def bind(request_id: str) -> Iterator[None]:
    """``request_id`` is the current one (logs, calls to other services) for the block."""
    token = _current.set(request_id)
    try:
        yield
    finally:
        _current.reset(token)


def accept_or_create(candidate: str | None) -> str:
    # An id that could smuggle line breaks or markup into a log is replaced, not trusted.
    if candidate and _VALID_ID.match(candidate):
        return candidate
    return uuid.uuid4().hex


class QueryCounter:
    """A database execute wrapper that counts the statements it lets through, and keeps their SQL
    (the text with its placeholders, never the parameters) when ``keep`` says so.

    ``begins`` counts the BEGINs among them: SQLite's backend starts a transaction with a
    statement, MariaDB's with a driver call that never passes here, so the same code counts one
    more per transaction on SQLite (tests/e2e/test_query_budget.py leaves them out of its goal)."""

    def __init__(self, *, keep: bool = False) -> None:
        self.count = 0
        self.begins = 0
        self.statements: list[str] | None = [] if keep else None

    def __call__(self, execute: Callable, sql: str, params: Any, many: bool, context: Any) -> Any:
        self.count += 1
        if sql.startswith("BEGIN"):
            self.begins += 1
        if self.statements is not None:
            self.statements.append(sql)
        return execute(sql, params, many, context)
