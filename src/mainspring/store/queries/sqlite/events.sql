-- name: find_event_id
-- The stored event for a sender id still inside the dedupe window.
SELECT internal_id FROM event_ids WHERE id = :id AND expires_at > :now;

-- name: remember_event_id
INSERT INTO event_ids (id, internal_id, expires_at) VALUES (:id, :internal_id, :expires_at)
ON CONFLICT (id) DO UPDATE SET internal_id = excluded.internal_id, expires_at = excluded.expires_at;

-- name: insert_event
-- Idempotent on the internal id, so an SDK resend with the same id seed is stored once.
INSERT INTO events (internal_id, id, name, data, user, ts, v, received_at)
VALUES (:internal_id, :id, :name, :data, :user, :ts, :v, :received_at)
ON CONFLICT (internal_id) DO NOTHING;

-- name: get_event
SELECT internal_id, id, name, data, user, ts, v, received_at FROM events WHERE internal_id = :internal_id;

-- name: list_events
SELECT internal_id, id, name, data, user, ts, v, received_at FROM events
ORDER BY received_at DESC, internal_id DESC LIMIT :limit;

-- name: list_events_by_name
SELECT internal_id, id, name, data, user, ts, v, received_at FROM events WHERE name = :name
ORDER BY received_at DESC, internal_id DESC LIMIT :limit;


-- name: get_events
-- Several events by internal id (`ids`: a JSON array), in no particular order.
SELECT internal_id, id, name, data, user, ts, v, received_at FROM events
WHERE internal_id IN (SELECT value FROM json_each(:ids));

-- name: events_since
-- Events of a name received since an instant, oldest first: a wait declared by a call also takes
-- what arrived while that call was in flight.
SELECT internal_id, id, name, data, user, ts, v, received_at FROM events
WHERE name = :name AND received_at >= :since
ORDER BY received_at, internal_id LIMIT :limit;
