import re

from mainspring.store import sql_files


def test_named_blocks_are_parsed() -> None:
    text = "-- name: a\n-- what a does\nSELECT 1;\n\n-- name: b\nSELECT 2;\n"
    assert sql_files.parse_named_queries(text) == {"a": "-- what a does\nSELECT 1", "b": "SELECT 2"}


def test_sqlite_queries_load_and_are_unique() -> None:
    queries = sql_files.load_queries("sqlite")
    assert {"enqueue", "lease_due", "record_step", "insert_event", "finish_run"} <= set(queries)


def test_migrations_are_numbered_in_order() -> None:
    versions = [version for version, _, _ in sql_files.load_migrations("sqlite")]
    assert versions == sorted(set(versions)) and versions[0] == 1


_SQLITE_PARAM = re.compile(r"(?<![:\w]):(\w+)")
_PG_PARAM = re.compile(r"%\((\w+)\)s")
_PG_PERCENT = re.compile(r"%(?!%|\(\w+\)s)")


def _without_comments(sql: str) -> str:
    return "\n".join(line for line in sql.splitlines() if not line.strip().startswith("--"))


def test_dialects_define_the_same_query_names() -> None:
    assert set(sql_files.load_queries("postgres")) == set(sql_files.load_queries("sqlite"))


def test_postgres_queries_use_the_same_named_placeholders_as_sqlite() -> None:
    sqlite = sql_files.load_queries("sqlite")
    for name, sql in sql_files.load_queries("postgres").items():
        body = _without_comments(sql)
        assert "?" not in body and not _SQLITE_PARAM.search(body), name
        stray = _PG_PERCENT.search(body.replace("%%", ""))
        assert stray is None, f"{name}: a % that is not a %(name)s placeholder"
        assert set(_PG_PARAM.findall(body)) == set(_SQLITE_PARAM.findall(sqlite[name])), name


def test_postgres_migrations_match_sqlite_versions() -> None:
    def names(dialect: str) -> list[tuple[int, str]]:
        return [(version, name) for version, name, _ in sql_files.load_migrations(dialect)]

    assert names("postgres") == names("sqlite")


def test_postgres_placeholders_become_positional_in_order_with_repeats() -> None:
    from mainspring.store.postgres import positional

    sql, names = positional({"q": "SELECT %(a)s, %(b)s WHERE x = %(a)s"})["q"]
    assert sql == "SELECT %s, %s WHERE x = %s"
    assert names == ("a", "b", "a")
    for name, (sql, names) in positional(sql_files.load_queries("postgres")).items():
        assert "%(" not in sql, name
        assert sql.count("%s") == len(names), name
