-- The audit log (issue 18 part 3): one row per operator action. Ids are ULIDs of the action's
-- instant, so the time window and the cursor are bounds on the id, read newest first.
CREATE TABLE audit_log (
    id          TEXT PRIMARY KEY,
    at          INTEGER NOT NULL,
    actor       TEXT NOT NULL,
    action      TEXT NOT NULL,
    target_kind TEXT,
    target_id   TEXT,
    reason      TEXT,
    details     TEXT NOT NULL
);

CREATE INDEX audit_log_by_action ON audit_log(action, id);
CREATE INDEX audit_log_by_actor ON audit_log(actor, id);
CREATE INDEX audit_log_by_target ON audit_log(target_id, id);
