-- name: upsert_endpoint_app
-- The app of a durable endpoint is named after its origin, which is also its URL.
INSERT INTO apps (id, name, url, sdk, framework, checksum, error, synced_at, created_at)
VALUES (%(id)s, %(name)s, %(name)s, NULL, 'durable-endpoint', NULL, NULL, %(now)s, %(now)s)
ON CONFLICT (name) DO NOTHING;

-- name: create_endpoint_run
-- A run the app started in its own request (its id chosen by the SDK, so a resend is a no-op:
-- rowcount 0). It is running already; its discovery item waits until the sync deadline, when
-- the server takes the run over unless a checkpoint pushed the deadline on.
WITH run AS (
    INSERT INTO runs (id, function_id, function_slug, event_id, event_ids, status,
        request_version, created_at, started_at)
    VALUES (%(id)s, %(function_id)s, %(function_slug)s, %(event_id)s, %(event_ids)s, 'Running',
        %(request_version)s, %(now)s, %(now)s)
    ON CONFLICT (id) DO NOTHING
    RETURNING id
), begun AS (
    INSERT INTO history (run_id, at, kind, data)
    SELECT id, %(now)s, 'run.scheduled', %(history_data)s FROM run
    UNION ALL SELECT id, %(now)s, 'run.started', NULL FROM run
)
INSERT INTO queue (id, kind, run_id, attempt, available_at, dedupe_key, created_at)
SELECT %(item_id)s, 'call', id, 0, %(deadline)s, %(dedupe_key)s, %(now)s FROM run
ON CONFLICT (dedupe_key) DO NOTHING;

-- name: endpoint_run_item
-- The run's discovery item (its sync deadline, a retry, or the call in flight when leased).
SELECT id, kind, run_id, step_id, step_name, attempt, payload, leased_by FROM queue
WHERE dedupe_key = %(dedupe_key)s;

-- name: extend_endpoint_deadline
-- The app's request is alive (it checkpointed): the server keeps off until the new deadline.
-- Not once the item was leased (the server took the run over) or became a retry.
UPDATE queue SET available_at = %(deadline)s
WHERE dedupe_key = %(dedupe_key)s AND leased_by IS NULL AND attempt = 0
  AND available_at < %(deadline)s;
