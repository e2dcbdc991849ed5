-- name: insert_signal_pause
-- A run starts waiting for a signal. The unique index pauses_one_signal lets one live wait hold
-- a name: on a conflict (or the same pause recorded again) nothing is inserted, rowcount 0.
INSERT INTO pauses (id, run_id, kind, step_id, step_name, event_name, match_field, match_key,
    expression, trigger_event, created_at, expires_at)
VALUES (%(id)s, %(run_id)s, 'signal', %(step_id)s, %(step_name)s, %(signal)s, '@signal', NULL,
    NULL, NULL, %(now)s, %(expires_at)s)
ON CONFLICT DO NOTHING;

-- name: signal_pause
-- The wait holding a signal name, by the unique index (it may be past its expiry).
SELECT id, run_id, step_id, step_name, expires_at FROM pauses
WHERE event_name = %(signal)s AND match_field = '@signal';

-- name: release_signal_pause
-- The name no longer reaches this wait (replaced, or expired); it stays until its timeout.
UPDATE pauses SET match_field = '@signal-released' WHERE id = %(id)s AND match_field = '@signal';
