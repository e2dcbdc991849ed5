-- Dashboard: runs of one app (the run list's app filter joins functions by app). The run-list
-- indexes themselves (status, function, function+status, newest first) come with 0006.
CREATE INDEX functions_by_app ON functions(app_id);
