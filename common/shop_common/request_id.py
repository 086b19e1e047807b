"""X-Request-ID: taken from the request when it is sane, made up otherwise, returned, logged, forwarded."""

import contextlib
import logging
import re
import time
import uuid
from collections.abc import Callable
from contextvars import ContextVar
from typing import Any

from django.conf import settings
from django.db import DatabaseError, connection
from django.http import HttpRequest, HttpResponse

HEADER = "X-Request-ID"
_VALID_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
_current: ContextVar[str | None] = ContextVar("request_id", default=None)

access_log = logging.getLogger("shop.access")


def current_request_id() -> str | None:
    return _current.get()


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


class RequestIdMiddleware:
    """Outermost middleware: binds the id for the request's lifetime and writes one access line.

    Being first, it also refuses a Host that is not in ALLOWED_HOSTS (a 400 in the error shape)
    before any other middleware or view runs: see ``error_handlers.reject_disallowed_host``.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        # Imported here: error_handlers imports this module (for the current request id).
        from shop_common.error_handlers import reject_disallowed_host

        self.get_response = get_response
        self.reject_disallowed_host = reject_disallowed_host
        # COUNT_SQL_QUERIES (tests): the access line says how many SQL statements the request ran
        # on the service's database (tests/e2e/test_query_budget.py adds them up for a checkout).
        # LOG_SQL_STATEMENTS adds db_statements, their SQL text (docs/development.md, "Counting
        # SQL statements").
        self.log_statements = getattr(settings, "LOG_SQL_STATEMENTS", False)
        self.count_queries = self.log_statements or getattr(settings, "COUNT_SQL_QUERIES", False)

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request_id = accept_or_create(request.headers.get(HEADER))
        request.request_id = request_id
        binding = _current.set(request_id)
        started = time.perf_counter()
        try:
            if self.count_queries:
                # A new connection's own statements (MariaDB: the server's variables and the
                # isolation level, once per thread's connection) are not the request's: the
                # connection is made before counting starts. A database that cannot be reached
                # is left to the view, as without counting.
                with contextlib.suppress(DatabaseError):
                    connection.ensure_connection()
                counter = QueryCounter(keep=self.log_statements)
                with connection.execute_wrapper(counter):
                    response = self.reject_disallowed_host(request) or self.get_response(request)
            else:
                response = self.reject_disallowed_host(request) or self.get_response(request)
            response[HEADER] = request_id
            # The path only: a query string may carry a token (GET /auth/validate_token?token=).
            extra = {
                "method": request.method,
                "path": request.path,
                "status": response.status_code,
                "duration_ms": round((time.perf_counter() - started) * 1000, 2),
            }
            if self.count_queries:
                extra["db_queries"] = counter.count
                extra["db_begins"] = counter.begins
                if counter.statements is not None:
                    # One line per statement: the formatter writes a list as its repr.
                    extra["db_statements"] = "\n".join(
                        " ".join(sql.split()) for sql in counter.statements
                    )
            access_log.info(
                "%s %s %s", request.method, request.path, response.status_code, extra=extra
            )
            return response
        finally:
            _current.reset(binding)
