#!/usr/bin/env python
"""`make test`: lint, then one pytest process per suite (shared library, each service), then the
system suite (tests/: end-to-end under gunicorn, repository checks), then one summary line.
Fails when anything fails, and when no test ran.

    python scripts/run_tests.py                 # everything
    python scripts/run_tests.py product common  # only these suites (system and lint by name too)

The database comes from the environment (DB_ENGINE=mysql and DB_* for MariaDB; SQLite otherwise).
"""

import argparse
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from shop_common.topology import SERVICES

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "var" / "test-results"


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
    passed: int = 0
    failed: int = 0
    skipped: int = 0


def suites() -> list[Suite]:
    return [
        Suite("common", ROOT / "common", ["--ds=tests.settings"]),
        *(Suite(service.name, ROOT / service.folder, []) for service in SERVICES),
        # tests/: the end-to-end suite (HTTP only) and the repository checks. They need no Django
        # settings, so pytest-django is off (and its ini keys unknown).
        Suite(
            "system", ROOT, ["tests", "-p", "no:django", "-W", "ignore::pytest.PytestConfigWarning"]
        ),
    ]


def run(suite: Suite) -> Outcome:
    report = RESULTS / f"{suite.name}.xml"
    report.unlink(missing_ok=True)
    started = time.monotonic()
    completed = subprocess.run(
        [sys.executable, "-m", "pytest", *suite.args, f"--junitxml={report}", "-q"],
        cwd=suite.cwd,
        capture_output=True,
        text=True,
        check=False,
    )
    outcome = Outcome(
        suite, completed.returncode, completed.stdout + completed.stderr, time.monotonic() - started
    )
    if report.exists():
        for element in ET.parse(report).getroot().iter("testsuite"):  # noqa: S314 (our own file)
            total = int(element.get("tests", 0))
            failed = int(element.get("failures", 0)) + int(element.get("errors", 0))
            skipped = int(element.get("skipped", 0))
            outcome.failed += failed
            outcome.skipped += skipped
            outcome.passed += total - failed - skipped
    return outcome


def lint() -> bool:
    ok = True
    for command in (["check", "."], ["format", "--check", "."]):
        sys.stdout.write(f"== lint: ruff {' '.join(command)}\n")
        sys.stdout.flush()
        ok &= (
            subprocess.run(
                [sys.executable, "-m", "ruff", *command], cwd=ROOT, check=False
            ).returncode
            == 0
        )
    return ok


def report(outcome: Outcome) -> None:
    sys.stdout.write(f"\n== {outcome.suite.name} ({outcome.seconds:.1f} s)\n{outcome.output}")
    sys.stdout.flush()


def main() -> int:
    parser = argparse.ArgumentParser(description="Runs the test suites.")
    parser.add_argument(
        "only",
        nargs="*",
        help="suite names (lint, common, user, product, cart, order, payment, integration, system)",
    )
    parser.add_argument(
        "--jobs", type=int, default=2, help="suites run at once (the system suite runs alone, last)"
    )
    args = parser.parse_args()
    chosen = set(args.only)
    RESULTS.mkdir(parents=True, exist_ok=True)
    for note in RESULTS.glob("*.txt"):
        note.unlink()

    lint_ok = lint() if not chosen or "lint" in chosen else True
    selected = [suite for suite in suites() if not chosen or suite.name in chosen]
    unit = [suite for suite in selected if suite.name != "system"]
    outcomes: list[Outcome] = []
    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        for outcome in pool.map(run, unit):
            report(outcome)
            outcomes.append(outcome)
    for suite in selected:
        if suite.name == "system":
            outcome = run(suite)
            report(outcome)
            outcomes.append(outcome)

    sys.stdout.write("\n== summary\n")
    # Figures a test leaves for people (var/test-results/*.txt), e.g. newman's counts.
    for note in sorted(RESULTS.glob("*.txt")):
        sys.stdout.write(f"  {note.read_text().strip()}\n")
    for outcome in outcomes:
        sys.stdout.write(
            f"  {outcome.suite.name:<12} {outcome.passed:>4} passed {outcome.failed:>3} failed "
            f"{outcome.skipped:>3} skipped  {outcome.seconds:6.1f} s  exit {outcome.returncode}\n"
        )
    passed = sum(outcome.passed for outcome in outcomes)
    failed = sum(outcome.failed for outcome in outcomes)
    skipped = sum(outcome.skipped for outcome in outcomes)
    broken = [outcome.suite.name for outcome in outcomes if outcome.returncode != 0]
    sys.stdout.write(
        f"  wall time {time.monotonic() - started:.1f} s; lint {'ok' if lint_ok else 'FAILED'}\n"
    )
    if broken:
        sys.stdout.write(f"  suites that did not pass: {', '.join(broken)}\n")
    sys.stdout.write(f"tests: {passed} passed, {failed} failed, {skipped} skipped\n")
    if selected and passed == 0:
        sys.stdout.write("No test ran: that is a failure.\n")
        return 1
    return 0 if lint_ok and not broken and failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
