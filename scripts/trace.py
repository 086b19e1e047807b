#!/usr/bin/env python
"""`make trace`: an OTLP/HTTP receiver on 127.0.0.1:4318 that prints each trace the shop sends it
as an indented tree of spans with their services and durations, once no span of it has come for
a few seconds. No collector, no UI, nothing to install (shop_common.testing.otlp).

    make trace                                                     # this terminal: the receiver
    OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:4318 make run     # another one: the shop
    # then check out (README, "Try it with curl"): its trace is printed here

    python scripts/trace.py --match checkout   # only traces whose first span's name has "checkout"
"""

import argparse
import sys
import time

from shop_common.testing.otlp import OtlpReceiver, tree

DEFAULT_PORT = 4318  # OTLP/HTTP's standard port


class Quiet:
    """Which traces have had no new span for a while: their services send spans in batches, each
    on its own schedule (the SDK's default: every 5 s), so a trace is whole only then."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.seen: dict[str, tuple[int, float]] = {}  # trace id -> (spans, when that count came)
        self.printed: set[str] = set()

    def finished(self, receiver: OtlpReceiver) -> list[str]:
        counts: dict[str, int] = {}
        for span in list(receiver.spans):
            counts[span.trace_id] = counts.get(span.trace_id, 0) + 1
        now = time.monotonic()
        done = []
        for trace_id, count in counts.items():
            if trace_id in self.printed:
                continue
            before, since = self.seen.get(trace_id, (0, now))
            if count != before:
                self.seen[trace_id] = (count, now)
            elif now - since >= self.seconds:
                self.printed.add(trace_id)
                done.append(trace_id)
        return done


def report(trace: list, match: str) -> str:
    first = min(trace, key=lambda span: span.start_ns)
    if match and match not in first.name:
        return ""
    services = sorted({span.service for span in trace})
    total = (max(span.end_ns for span in trace) - first.start_ns) / 1e6
    header = f"trace {first.trace_id}: {len(trace)} spans, {total:.1f} ms, {', '.join(services)}"
    return "\n".join([header, *tree(trace), ""]) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, default=DEFAULT_PORT)
    parser.add_argument("--match", default="", help="print only traces whose root span has this")
    parser.add_argument(
        "--quiet-seconds",
        type=float,
        default=6.0,
        help="print a trace this long after its last span",
    )
    args = parser.parse_args()
    quiet = Quiet(args.quiet_seconds)
    with OtlpReceiver(port=args.port) as receiver:
        sys.stdout.write(
            f"Receiving OTLP/HTTP traces at {receiver.endpoint}; run the shop with "
            f"OTEL_EXPORTER_OTLP_ENDPOINT={receiver.endpoint}. Ctrl-C stops.\n"
        )
        sys.stdout.flush()
        try:
            while True:
                for trace_id in quiet.finished(receiver):
                    sys.stdout.write(report(receiver.trace(trace_id), args.match))
                sys.stdout.flush()
                time.sleep(0.5)
        except KeyboardInterrupt:
            return 0


if __name__ == "__main__":
    sys.exit(main())
