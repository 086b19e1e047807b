"""A pytest plugin for `make test` (scripts/run_tests.py): one line per test file as it finishes,
written to the file descriptor ``TEST_PROGRESS_FD`` names, so the long system suite shows where it
is while its own output stays captured for the end.

    system   41% 150/365  tests/e2e/test_orders.py  12 passed  0 failed  0 skipped  31.0 s  [6:02]
"""

import os
import time
from collections import Counter

import pytest

VARIABLE = "TEST_PROGRESS_FD"


class Progress:
    def __init__(self, fd: int, label: str) -> None:
        self.fd = fd
        self.label = label
        self.total = 0
        self.done = 0
        self.started = time.monotonic()
        self.file_started = self.started
        self.outcomes: dict[str, str] = {}

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        self.total = len(session.items)

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if report.failed:
            self.outcomes[report.nodeid] = "failed"
        elif report.skipped:
            self.outcomes.setdefault(report.nodeid, "skipped")
        elif report.when == "call":
            self.outcomes.setdefault(report.nodeid, "passed")

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_protocol(self, item: pytest.Item, nextitem: pytest.Item | None):
        result = yield
        self.done += 1
        path = item.nodeid.split("::")[0]
        if nextitem is None or nextitem.nodeid.split("::")[0] != path:
            self.write_file_line(path)
        return result

    def write_file_line(self, path: str) -> None:
        counts = Counter(
            outcome for nodeid, outcome in self.outcomes.items() if nodeid.startswith(f"{path}::")
        )
        now = time.monotonic()
        elapsed = int(now - self.started)
        share = 100 * self.done // max(1, self.total)
        line = (
            f"  {self.label:<8} {share:>3}% {self.done}/{self.total}  {path}  "
            f"{counts['passed']} passed  {counts['failed']} failed  {counts['skipped']} skipped  "
            f"{now - self.file_started:.1f} s  [{elapsed // 60}:{elapsed % 60:02d}]\n"
        )
        self.file_started = now
        os.write(self.fd, line.encode())


def pytest_configure(config: pytest.Config) -> None:
    fd = os.environ.get(VARIABLE)
    if fd:
        label = os.environ.get("TEST_PROGRESS_LABEL", "tests")
        config.pluginmanager.register(Progress(int(fd), label), "shop-progress")
