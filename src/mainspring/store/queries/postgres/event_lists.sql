-- Listing events newest first by receipt, in [after, before) with a (received_at, internal_id)
-- cursor; the first condition keeps the range on the index.

-- name: events_page
SELECT internal_id, id, name, data, "user", ts, v, received_at FROM events
WHERE received_at >= %(after)s AND received_at <= %(before_at)s
  AND (received_at < %(before_at)s OR internal_id < %(before_id)s)
ORDER BY received_at DESC, internal_id DESC LIMIT %(limit)s;

-- name: events_page_by_name
SELECT internal_id, id, name, data, "user", ts, v, received_at FROM events
WHERE name = %(name)s AND received_at >= %(after)s AND received_at <= %(before_at)s
  AND (received_at < %(before_at)s OR internal_id < %(before_id)s)
ORDER BY received_at DESC, internal_id DESC LIMIT %(limit)s;
