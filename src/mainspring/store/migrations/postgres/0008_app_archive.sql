-- Deleting an app (GraphQL `deleteApp`) archives it with its functions, as Inngest does: its runs
-- keep their app and function names. A later sync of the same app name brings it back.
ALTER TABLE apps ADD COLUMN archived_at BIGINT;
