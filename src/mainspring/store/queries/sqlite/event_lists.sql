-- Listing events newest first by receipt, in [after, before) with a (received_at, internal_id)
-- cursor; the first condition keeps the range on the index.

-- name: events_page
SELECT internal_id, id, name, data, user, ts, v, received_at FROM events
WHERE received_at >= :after AND received_at <= :before_at
  AND (received_at < :before_at OR internal_id < :before_id)
ORDER BY received_at DESC, internal_id DESC LIMIT :limit;

-- name: events_page_by_name
SELECT internal_id, id, name, data, user, ts, v, received_at FROM events
WHERE name = :name AND received_at >= :after AND received_at <= :before_at
  AND (received_at < :before_at OR internal_id < :before_id)
ORDER BY received_at DESC, internal_id DESC LIMIT :limit;
