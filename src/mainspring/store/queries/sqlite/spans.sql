-- Userland spans (issue 16): what an app's OpenTelemetry exporter sent for a run.

-- name: run_span_bytes
SELECT COALESCE(SUM(size), 0) AS n FROM run_spans WHERE run_id = :run_id;

-- name: insert_run_span
-- An exporter that retries sends a span again: the first copy stays.
INSERT INTO run_spans (run_id, span_id, trace_id, parent_span_id, step_id, attempt, name, kind,
    scope_name, service_name, status, status_message, start_ns, end_ns, attributes, size,
    received_at)
VALUES (:run_id, :span_id, :trace_id, :parent_span_id, :step_id, :attempt, :name, :kind,
    :scope_name, :service_name, :status, :status_message, :start_ns, :end_ns, :attributes, :size,
    :now)
ON CONFLICT (run_id, span_id) DO NOTHING;

-- name: list_run_spans
SELECT span_id, trace_id, parent_span_id, step_id, attempt, name, kind, scope_name,
    service_name, status, status_message, start_ns, end_ns, attributes
FROM run_spans WHERE run_id = :run_id ORDER BY start_ns, span_id;

-- name: prune_run_spans
DELETE FROM run_spans WHERE run_id = :run_id;
