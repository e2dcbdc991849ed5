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

-- name: events_page_user
-- Only the events users and apps sent: none of the server's own (`inngest/…`), so that a page
-- holds `limit` of them however many internal events came in between.
SELECT internal_id, id, name, data, "user", ts, v, received_at FROM events
WHERE received_at >= %(after)s AND received_at <= %(before_at)s
  AND (received_at < %(before_at)s OR internal_id < %(before_id)s)
  AND substr(name, 1, 8) <> 'inngest/'
ORDER BY received_at DESC, internal_id DESC LIMIT %(limit)s;

-- name: events_count
-- How many events a listing holds, every page together (the same window as `events_page`).
SELECT COUNT(*) AS n FROM events
WHERE received_at >= %(after)s AND received_at <= %(before_at)s
  AND (received_at < %(before_at)s OR internal_id < %(before_id)s);

-- name: events_count_by_name
SELECT COUNT(*) AS n FROM events
WHERE name = %(name)s AND received_at >= %(after)s AND received_at <= %(before_at)s
  AND (received_at < %(before_at)s OR internal_id < %(before_id)s);

-- name: events_count_user
SELECT COUNT(*) AS n FROM events
WHERE received_at >= %(after)s AND received_at <= %(before_at)s
  AND (received_at < %(before_at)s OR internal_id < %(before_id)s)
  AND substr(name, 1, 8) <> 'inngest/';
