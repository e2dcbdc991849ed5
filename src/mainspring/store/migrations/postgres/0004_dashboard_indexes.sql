-- Dashboard and run-list filters: newest first (id order, ULIDs sort by time) within a status,
-- a function, or a function and status, so a page of 50 never scans the whole table.
CREATE INDEX runs_by_status_id ON runs(status, id);
CREATE INDEX runs_by_function_status_id ON runs(function_slug, status, id);
CREATE INDEX runs_by_function_id ON runs(function_slug, id);
CREATE INDEX functions_by_app ON functions(app_id);
