"""A local OTLP/HTTP trace receiver for benchmarks: decodes each export, counts the spans and
the runs' root spans, and discards them (so the benchmark can wait until the export caught up)."""

from __future__ import annotations

import http.server
import threading
from typing import Any

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)

_ANSWER = ExportTraceServiceResponse().SerializeToString()


class OtlpSink:
    """`decode=False` only reads and answers (its CPU stays out of an in-process measure)."""

    def __init__(self, *, decode: bool = True) -> None:
        self.spans = 0
        self.roots = 0
        self.requests = 0
        self._lock = threading.Lock()
        sink = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as a collector would

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                sink.requests += 1
                if self.path == "/v1/traces" and decode:
                    sink.count(ExportTraceServiceRequest.FromString(body))
                self.send_response(200)
                self.send_header("Content-Type", "application/x-protobuf")
                self.send_header("Content-Length", str(len(_ANSWER)))
                self.end_headers()
                self.wfile.write(_ANSWER)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def count(self, request: ExportTraceServiceRequest) -> None:
        spans = roots = 0
        for resource_spans in request.resource_spans:
            for scope_spans in resource_spans.scope_spans:
                spans += len(scope_spans.spans)
                roots += sum(1 for span in scope_spans.spans if not span.parent_span_id)
        with self._lock:
            self.spans += spans
            self.roots += roots

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
