-- name: upsert_endpoint_app
-- The app of a durable endpoint is named after its origin, which is also its URL.
INSERT INTO apps (id, name, url, sdk, framework, checksum, error, synced_at, created_at)
VALUES (:id, :name, :name, NULL, 'durable-endpoint', NULL, NULL, :now, :now)
ON CONFLICT (name) DO NOTHING;

-- name: create_endpoint_run
-- A run the app started in its own request (its id chosen by the SDK, so a resend is a no-op:
-- rowcount 0). It is running already; its discovery item waits until the sync deadline, when
-- the server takes the run over unless a checkpoint pushed the deadline on.
INSERT INTO runs (id, function_id, function_slug, event_id, event_ids, status, request_version,
    created_at, started_at)
VALUES (:id, :function_id, :function_slug, :event_id, :event_ids, 'Running', :request_version,
    :now, :now)
ON CONFLICT (id) DO NOTHING;
INSERT INTO history (run_id, at, kind, data) VALUES (:id, :now, 'run.scheduled', :history_data);
INSERT INTO history (run_id, at, kind) VALUES (:id, :now, 'run.started');
INSERT INTO queue (id, kind, run_id, attempt, available_at, dedupe_key, created_at)
VALUES (:item_id, 'call', :id, 0, :deadline, :dedupe_key, :now)
ON CONFLICT (dedupe_key) DO NOTHING;

-- name: endpoint_run_item
-- The run's discovery item (its sync deadline, a retry, or the call in flight when leased).
SELECT id, kind, run_id, step_id, step_name, attempt, payload, leased_by FROM queue
WHERE dedupe_key = :dedupe_key;

-- name: extend_endpoint_deadline
-- The app's request is alive (it checkpointed): the server keeps off until the new deadline.
-- Not once the item was leased (the server took the run over) or became a retry.
UPDATE queue SET available_at = :deadline
WHERE dedupe_key = :dedupe_key AND leased_by IS NULL AND attempt = 0
  AND available_at < :deadline;
