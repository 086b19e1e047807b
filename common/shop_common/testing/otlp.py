"""A tiny OTLP/HTTP trace receiver: what the services export to ``OTEL_EXPORTER_OTLP_ENDPOINT``
(``POST /v1/traces``, protobuf), decoded with the OpenTelemetry proto package and kept in memory.
A stand-in for an OpenTelemetry Collector, for the end-to-end tests and `make trace`
(scripts/trace.py), which prints each trace with :func:`tree` (docs/observability.md).
"""

import gzip
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)

from shop_common.testing.waiting import eventually


@dataclass(frozen=True)
class ReceivedSpan:
    service: str
    name: str
    trace_id: str
    span_id: str
    parent_span_id: str
    kind: int
    start_ns: int
    end_ns: int
    attributes: dict

    @property
    def duration_ms(self) -> float:
        return (self.end_ns - self.start_ns) / 1e6


def _value(any_value) -> object:
    return (
        getattr(any_value, any_value.WhichOneof("value")) if any_value.WhichOneof("value") else None
    )


class OtlpReceiver:
    def __init__(self, port: int = 0) -> None:
        self.spans: list[ReceivedSpan] = []
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                if self.headers.get("Content-Encoding") == "gzip":
                    body = gzip.decompress(body)
                if self.path != "/v1/traces":
                    self.send_response(404)
                    self.end_headers()
                    return
                receiver._add(ExportTraceServiceRequest.FromString(body))
                answer = ExportTraceServiceResponse().SerializeToString()
                self.send_response(200)
                self.send_header("Content-Type", "application/x-protobuf")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.endpoint = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> "OtlpReceiver":
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    def _add(self, request: ExportTraceServiceRequest) -> None:
        received = []
        for resource_spans in request.resource_spans:
            resource = {a.key: _value(a.value) for a in resource_spans.resource.attributes}
            for scope_spans in resource_spans.scope_spans:
                for span in scope_spans.spans:
                    received.append(
                        ReceivedSpan(
                            service=str(resource.get("service.name")),
                            name=span.name,
                            trace_id=span.trace_id.hex(),
                            span_id=span.span_id.hex(),
                            parent_span_id=span.parent_span_id.hex(),
                            kind=span.kind,
                            start_ns=span.start_time_unix_nano,
                            end_ns=span.end_time_unix_nano,
                            attributes={a.key: _value(a.value) for a in span.attributes},
                        )
                    )
        with self._lock:
            self.spans.extend(received)

    def trace(self, trace_id: str) -> list[ReceivedSpan]:
        with self._lock:
            return sorted(
                (span for span in self.spans if span.trace_id == trace_id),
                key=lambda span: span.start_ns,
            )

    def wait_for(self, predicate, timeout: float = 20.0) -> list[ReceivedSpan]:
        """The spans received once ``predicate(spans)`` holds (polled), or an AssertionError."""

        def received() -> list[ReceivedSpan]:
            with self._lock:
                return list(self.spans)

        spans = eventually(received, predicate, timeout=timeout, interval=0.1)
        if not predicate(spans):
            raise AssertionError(f"not within {timeout} s; received {len(spans)} spans")
        return spans


def tree(trace: list[ReceivedSpan]) -> list[str]:
    """One trace's spans as an indented tree, each under its parent in the order they started, with
    the service, the name and the duration."""
    ids = {span.span_id for span in trace}
    children: dict[str, list[ReceivedSpan]] = {}
    for span in sorted(trace, key=lambda span: span.start_ns):
        # A span whose parent is not here (not exported, or from outside) starts a branch of its own.
        parent = span.parent_span_id if span.parent_span_id in ids else ""
        children.setdefault(parent, []).append(span)
    lines: list[str] = []

    def walk(parent: str, depth: int) -> None:
        for span in children.get(parent, []):
            name = f"{'  ' * depth}{span.name}"
            lines.append(f"{name:<60} {span.service:<12} {span.duration_ms:9.1f} ms")
            walk(span.span_id, depth + 1)

    walk("", 0)
    return lines
