#!/usr/bin/env python
"""`make test`: lint, then one pytest process per suite, then a summary. Fails when anything
fails, and when no test ran.

    python scripts/run_tests.py                 # everything
    python scripts/run_tests.py product common  # only these suites (lint by name too)

Suites: the shared library (common), each service, and two of whole-system tests: e2e
(tests/e2e/, the shop under its server) and system (tests/*.py: fuzzing, `make run`, deployment and
repository checks). Those two are the longest by far and mostly wait on one service at a time, so
they start first and run side by side, with the others beside them, ``--jobs`` at a time. Each suite
prints a line as it finishes, the two long ones also a line per test file while they run
(shop_common.testing.progress); a failed suite's output follows its line (all of it is kept in
var/test-results/<suite>.log), and the slowest tests close the run. The CPU seconds of each suite
(its services included) say where the time goes when the machine is busy.

The database comes from the environment (DB_ENGINE=mysql and DB_* for MariaDB; SQLite otherwise).
"""

import argparse
import os
import subprocess
import sys
import threading
import time
import xml.etree.ElementTree as ET
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path

from shop_common.testing.progress import VARIABLE as PROGRESS_FD
from shop_common.topology import SERVICES

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "var" / "test-results"
SLOWEST = 10
_output = threading.Lock()


@dataclass
class Suite:
    name: str
    cwd: Path
    args: list[str]


@dataclass
class Outcome:
    suite: Suite
    returncode: int
    output: str
    seconds: float
    cpu_seconds: float = 0.0
    passed: int = 0
    failed: int = 0
    skipped: int = 0
    durations: list[tuple[float, str]] = field(default_factory=list)


# The two long suites, started first; the others run beside them.
LONG = ("e2e", "system")


def suites() -> list[Suite]:
    # tests/ needs no Django settings: pytest-django is off there (and its ini keys unknown).
    without_django = ["-p", "no:django", "-W", "ignore::pytest.PytestConfigWarning"]
    return [
        Suite("common", ROOT / "common", ["--ds=tests.settings"]),
        *(Suite(service.name, ROOT / service.folder, []) for service in SERVICES),
        # tests/e2e/: the shop under granian over HTTP, one shared stack and a few of their own.
        Suite("e2e", ROOT, ["tests/e2e", *without_django]),
        # tests/*.py: the fuzzing, `make run` itself, deployment, documents and repository checks.
        Suite("system", ROOT, ["tests", "--ignore=tests/e2e", *without_django]),
    ]


def say(text: str) -> None:
    with _output:
        sys.stdout.write(text)
        sys.stdout.flush()


def run(suite: Suite, *, progress: bool = False) -> Outcome:
    report = RESULTS / f"{suite.name}.xml"
    report.unlink(missing_ok=True)
    log = RESULTS / f"{suite.name}.log"
    env = {**os.environ, "TEST_PROGRESS_LABEL": suite.name}
    passed_fds: tuple[int, ...] = ()
    if progress:
        # The plugin writes its lines straight to this terminal (a copy of stdout: the child's own
        # stdout is the file that keeps pytest's output).
        passed_fds = (os.dup(sys.stdout.fileno()),)
        env[PROGRESS_FD] = str(passed_fds[0])
    started = time.monotonic()
    command = [
        sys.executable,
        "-m",
        "pytest",
        *suite.args,
        "-p",
        "shop_common.testing.progress",
        f"--junitxml={report}",
        "-q",
    ]
    try:
        with open(log, "w") as output:
            process = subprocess.Popen(
                command,
                cwd=suite.cwd,
                env=env,
                pass_fds=passed_fds,
                stdout=output,
                stderr=subprocess.STDOUT,
            )
            # wait4: the suite's CPU time, its services' included (each process waits its own).
            _, status, usage = os.wait4(process.pid, 0)
            process.returncode = os.waitstatus_to_exitcode(status)
    finally:
        for fd in passed_fds:
            os.close(fd)
    outcome = Outcome(
        suite,
        process.returncode,
        log.read_text(errors="replace"),
        time.monotonic() - started,
        cpu_seconds=usage.ru_utime + usage.ru_stime,
    )
    if report.exists():
        root = ET.parse(report).getroot()  # noqa: S314 (our own file)
        for element in root.iter("testsuite"):
            total = int(element.get("tests", 0))
            failed = int(element.get("failures", 0)) + int(element.get("errors", 0))
            skipped = int(element.get("skipped", 0))
            outcome.failed += failed
            outcome.skipped += skipped
            outcome.passed += total - failed - skipped
        outcome.durations = [
            (float(case.get("time", 0)), f"{case.get('classname')}::{case.get('name')}")
            for case in root.iter("testcase")
        ]
    return outcome


def lint() -> bool:
    ok = True
    for command in (["check", "."], ["format", "--check", "."]):
        say(f"== lint: ruff {' '.join(command)}\n")
        ok &= (
            subprocess.run(
                [sys.executable, "-m", "ruff", *command], cwd=ROOT, check=False
            ).returncode
            == 0
        )
    return ok


def counts(outcome: Outcome) -> str:
    return (
        f"{outcome.passed:>4} passed {outcome.failed:>3} failed {outcome.skipped:>3} skipped  "
        f"{outcome.seconds:6.1f} s  cpu {outcome.cpu_seconds:6.1f} s  exit {outcome.returncode}"
    )


def report(outcome: Outcome) -> None:
    line = f"== {outcome.suite.name:<12} {counts(outcome)}\n"
    say(line + (outcome.output if outcome.returncode != 0 else ""))


def main() -> int:
    parser = argparse.ArgumentParser(description="Runs the test suites.")
    parser.add_argument(
        "only",
        nargs="*",
        help="suite names: lint, common, user, product, cart, order, payment, integration, e2e, system",
    )
    parser.add_argument(
        "--jobs", type=int, default=1, help="suites run at once beside the two long ones"
    )
    args = parser.parse_args()
    chosen = set(args.only)
    RESULTS.mkdir(parents=True, exist_ok=True)
    for note in RESULTS.glob("*.txt"):
        note.unlink()

    started = time.monotonic()
    lint_ok = lint() if not chosen or "lint" in chosen else True
    selected = [suite for suite in suites() if not chosen or suite.name in chosen]
    outcomes: list[Outcome] = []
    long = [suite for suite in selected if suite.name in LONG]
    with ThreadPoolExecutor(max_workers=max(1, len(long))) as long_pool:
        running = [long_pool.submit(run, suite, progress=True) for suite in long]
        with ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
            running += [pool.submit(run, suite) for suite in selected if suite.name not in LONG]
            for future in as_completed(running):
                outcome = future.result()
                report(outcome)
                outcomes.append(outcome)

    say("\n== summary\n")
    # Figures a test leaves for people (var/test-results/*.txt), e.g. newman's counts.
    for note in sorted(RESULTS.glob("*.txt")):
        say(f"  {note.read_text().strip()}\n")
    for outcome in outcomes:
        say(f"  {outcome.suite.name:<12} {counts(outcome)}\n")
    slowest = sorted(
        (
            (seconds, outcome.suite.name, name)
            for outcome in outcomes
            for seconds, name in outcome.durations
        ),
        reverse=True,
    )[:SLOWEST]
    if slowest:
        say(f"  slowest {len(slowest)} tests (set-up included):\n")
        for seconds, suite_name, name in slowest:
            say(f"    {seconds:6.1f} s  {suite_name:<12} {name}\n")
    passed = sum(outcome.passed for outcome in outcomes)
    failed = sum(outcome.failed for outcome in outcomes)
    skipped = sum(outcome.skipped for outcome in outcomes)
    broken = [outcome.suite.name for outcome in outcomes if outcome.returncode != 0]
    cpu = sum(outcome.cpu_seconds for outcome in outcomes)
    load = os.getloadavg()[0]
    say(
        f"  wall time {time.monotonic() - started:.1f} s, cpu {cpu:.1f} s, load {load:.1f}; "
        f"lint {'ok' if lint_ok else 'FAILED'}\n"
    )
    if broken:
        say(f"  suites that did not pass: {', '.join(broken)}\n")
    say(f"tests: {passed} passed, {failed} failed, {skipped} skipped\n")
    if selected and passed == 0:
        say("No test ran: that is a failure.\n")
        return 1
    return 0 if lint_ok and not broken and failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
