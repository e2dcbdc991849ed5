from mainspring.store import sql_files


def test_named_blocks_are_parsed() -> None:
    text = "-- name: a\n-- what a does\nSELECT 1;\n\n-- name: b\nSELECT 2;\n"
    assert sql_files.parse_named_queries(text) == {"a": "-- what a does\nSELECT 1", "b": "SELECT 2"}


def test_sqlite_queries_load_and_are_unique() -> None:
    queries = sql_files.load_queries("sqlite")
    assert {"enqueue", "lease_due", "insert_step", "insert_event", "finish_run"} <= set(queries)


def test_migrations_are_numbered_in_order() -> None:
    versions = [version for version, _, _ in sql_files.load_migrations("sqlite")]
    assert versions == sorted(set(versions)) and versions[0] == 1
