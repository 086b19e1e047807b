"""OpenTelemetry tracing, on only when ``OTEL_EXPORTER_OTLP_ENDPOINT`` is configured
(docs/observability.md).

On: each worker process gets a tracer provider exporting over OTLP/HTTP (protobuf) to
``<endpoint>/v1/traces`` in batches, and the Django, httpx and database instrumentations: a span per
inbound request, per call to another service (which carries the W3C ``traceparent`` header next to
``X-Request-ID``) and per SQL statement. Log lines then carry ``trace_id`` and ``span_id``.

Off (the default): nothing of OpenTelemetry is imported and no request pays anything for it.
"""

import logging
from typing import Any

from django.conf import settings

logger = logging.getLogger("shop.tracing")


class TraceIdFilter(logging.Filter):
    """Adds the current span's ids to every log record (the JSON formatter writes them)."""

    def __init__(self) -> None:
        super().__init__()
        from opentelemetry import trace

        self._current_span = trace.get_current_span

    def filter(self, record: logging.LogRecord) -> bool:
        context = self._current_span().get_span_context()
        if context.is_valid:
            record.trace_id = format(context.trace_id, "032x")
            record.span_id = format(context.span_id, "016x")
        return True


def configure() -> bool:
    """Called once per process from the shared app's ready(), before Django builds its middleware
    chain (the Django instrumentation adds its middleware to the settings). True when on."""
    endpoint = settings.OTEL_EXPORTER_OTLP_ENDPOINT.rstrip("/")
    if not endpoint:
        return False
    from opentelemetry import trace
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.instrumentation.django import DjangoInstrumentor
    from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    provider = TracerProvider(
        resource=Resource.create(
            {"service.name": settings.SERVICE_NAME, "service.version": settings.SERVICE_VERSION}
        )
    )
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(f"{endpoint}/v1/traces")))
    trace.set_tracer_provider(provider)
    # /metrics and /health/ are read every few seconds by machines: no trace for them.
    DjangoInstrumentor().instrument(excluded_urls="metrics,health")
    HTTPXClientInstrumentor().instrument()
    _instrument_database()
    for handler in logging.getLogger().handlers:
        handler.addFilter(TraceIdFilter())
    logger.info("Tracing on: spans go to %s/v1/traces", endpoint)
    return True


def _instrument_database() -> None:
    instrumentor: Any
    if settings.DATABASES["default"]["ENGINE"].endswith("mysql"):
        from opentelemetry.instrumentation.mysqlclient import MySQLClientInstrumentor

        instrumentor = MySQLClientInstrumentor()
    else:
        from opentelemetry.instrumentation.sqlite3 import SQLite3Instrumentor

        instrumentor = SQLite3Instrumentor()
    instrumentor.instrument()
