"""A circuit breaker per dependency: after repeated connection failures or timeouts, calls to that
service fail at once for a while instead of each waiting out its timeout.

closed ── N failures in a row ──▶ open ── reset timeout ──▶ half-open ── trial succeeds ──▶ closed
                                   ▲                           │
                                   └────── trial fails ────────┘

In half-open one call is let through as the trial; the others keep failing fast until it ends.
Only transport failures count: an HTTP answer, even a 4xx or 5xx, means the service is there.
The state lives in the process (each worker process has its own) and every change is logged once.

Not pybreaker: its ``call`` holds the breaker's lock for the whole guarded call, which would queue
every call to a service behind the slowest one under a threaded worker.
"""

import logging
import threading
import time

from shop_common import metrics

# The clock the timeouts are read from (tests move it instead of sleeping).
_now = time.monotonic

logger = logging.getLogger("shop.breaker")

CLOSED = "closed"
OPEN = "open"
HALF_OPEN = "half_open"


class CircuitBreaker:
    def __init__(self, service: str, *, failure_threshold: int, reset_timeout: float) -> None:
        self.service = service
        self.failure_threshold = failure_threshold
        self.reset_timeout = reset_timeout
        self._lock = threading.Lock()
        self._state = CLOSED
        self._failures = 0
        self._opened_at = 0.0
        self._trial_started_at: float | None = None
        metrics.set_breaker_state(service, CLOSED)

    @property
    def state(self) -> str:
        with self._lock:
            if self._state == OPEN and self._reset_due():
                return HALF_OPEN
            return self._state

    def snapshot(self) -> dict[str, object]:
        """What /health/ reports: the state and the failures in a row."""
        with self._lock:
            state = HALF_OPEN if self._state == OPEN and self._reset_due() else self._state
            return {"state": state, "failures": self._failures}

    def allow(self) -> bool:
        """May a call go out now? False while open; in half-open, True for the one trial call."""
        with self._lock:
            now = _now()
            if self._state == CLOSED:
                return True
            if self._state == OPEN:
                if not self._reset_due():
                    return False
                self._change(HALF_OPEN)
            # A trial that never reported back (its caller died) does not block the breaker.
            if self._trial_started_at is not None and now - self._trial_started_at < (
                self.reset_timeout
            ):
                return False
            self._trial_started_at = now
            return True

    def succeeded(self) -> None:
        with self._lock:
            self._failures = 0
            self._trial_started_at = None
            if self._state != CLOSED:
                self._change(CLOSED)

    def failed(self) -> None:
        with self._lock:
            self._failures += 1
            self._trial_started_at = None
            if self._state == HALF_OPEN or (
                self._state == CLOSED and self._failures >= self.failure_threshold
            ):
                self._opened_at = _now()
                self._change(OPEN)

    def _reset_due(self) -> bool:
        return _now() - self._opened_at >= self.reset_timeout

    def _change(self, state: str) -> None:
        previous, self._state = self._state, state
        metrics.count_breaker_transition(self.service, state)
        log = logger.warning if state == OPEN else logger.info
        log(
            "Circuit breaker for the %s service: %s -> %s (%d failures in a row)",
            self.service,
            previous,
            state,
            self._failures,
            extra={"dependency": self.service, "breaker_state": state},
        )
