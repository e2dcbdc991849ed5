-- name: find_event_id
-- The stored event for a sender id still inside the dedupe window.
SELECT internal_id FROM event_ids WHERE id = %(id)s AND expires_at > %(now)s;

-- name: remember_event_id
INSERT INTO event_ids (id, internal_id, expires_at) VALUES (%(id)s, %(internal_id)s, %(expires_at)s)
ON CONFLICT (id) DO UPDATE SET internal_id = EXCLUDED.internal_id, expires_at = EXCLUDED.expires_at;

-- name: insert_event
-- Idempotent on the internal id, so an SDK resend with the same id seed is stored once.
-- "user" is a reserved word in PostgreSQL (unquoted it means current_user).
INSERT INTO events (internal_id, id, name, data, "user", ts, v, received_at)
VALUES (%(internal_id)s, %(id)s, %(name)s, %(data)s, %(user)s, %(ts)s, %(v)s, %(received_at)s)
ON CONFLICT (internal_id) DO NOTHING;

-- name: get_event
SELECT internal_id, id, name, data, "user", ts, v, received_at FROM events
WHERE internal_id = %(internal_id)s;

-- name: list_events
SELECT internal_id, id, name, data, "user", ts, v, received_at FROM events
ORDER BY received_at DESC, internal_id DESC LIMIT %(limit)s;

-- name: list_events_by_name
SELECT internal_id, id, name, data, "user", ts, v, received_at FROM events WHERE name = %(name)s
ORDER BY received_at DESC, internal_id DESC LIMIT %(limit)s;


-- name: get_events
-- Several events by internal id (`ids`: a JSON array), in no particular order.
SELECT internal_id, id, name, data, "user", ts, v, received_at FROM events
WHERE internal_id = ANY(ARRAY(SELECT jsonb_array_elements_text(%(ids)s::jsonb)));

-- name: events_since
-- Events of a name received since an instant, oldest first: a wait declared by a call also takes
-- what arrived while that call was in flight.
SELECT internal_id, id, name, data, "user", ts, v, received_at FROM events
WHERE name = %(name)s AND received_at >= %(since)s
ORDER BY received_at, internal_id LIMIT %(limit)s;
