"""Waiting for a condition, the one way tests wait: no test sleeps and hopes."""

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def eventually(
    read: Callable[[], T], done: Callable[[T], bool], *, timeout: float = 20, interval: float = 0.2
) -> T:
    """``read()`` again every ``interval`` seconds until ``done`` says yes to what it returns, or
    ``timeout`` seconds have passed; the last value either way (the test asserts on it)."""
    deadline = time.monotonic() + timeout
    while True:
        value = read()
        if done(value) or time.monotonic() > deadline:
            return value
        time.sleep(interval)
