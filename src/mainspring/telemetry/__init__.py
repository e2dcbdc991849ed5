"""OpenTelemetry out: each ended run's trace and the server's metrics, over OTLP (issue 18).

Off unless configured (`telemetry.config`); when off nothing here is imported by the engine and
no span is built. Spans are made from recorded facts (history, memoized steps, userland spans)
once a run has ended, so the executor's hot path does no tracing work at all.
"""
