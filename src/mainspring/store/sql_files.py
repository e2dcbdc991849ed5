"""Named SQL: each dialect keeps `.sql` files of `-- name: x` blocks; Python never builds SQL."""

from __future__ import annotations

import re
from importlib import resources

_HEADER = re.compile(r"^-- name: (\w+)\s*$", re.MULTILINE)


def parse_named_queries(text: str) -> dict[str, str]:
    """Split one `.sql` file into its named statements (comments kept, they cost nothing)."""
    queries: dict[str, str] = {}
    matches = list(_HEADER.finditer(text))
    for index, match in enumerate(matches):
        end = matches[index + 1].start() if index + 1 < len(matches) else len(text)
        body = text[match.end() : end].strip().rstrip(";").strip()
        name = match.group(1)
        if name in queries:
            raise ValueError(f"query {name!r} defined twice")
        queries[name] = body
    return queries


def compound_parts(body: str) -> list[str]:
    """The statements of a named query. PostgreSQL folds an operation into one statement with
    data-modifying CTEs; SQLite, in-process and cheap per statement, spells it as a guarded
    sequence: statements separated by `;` at a line end, the rest run only when the first
    changed a row (see `SqliteTx`)."""
    return [part.strip() for part in re.split(r";\s*\n", body) if part.strip()]


def load_queries(dialect: str) -> dict[str, str]:
    folder = resources.files("mainspring.store").joinpath("queries", dialect)
    queries: dict[str, str] = {}
    for entry in sorted(folder.iterdir(), key=lambda item: item.name):
        if entry.name.endswith(".sql"):
            for name, sql in parse_named_queries(entry.read_text()).items():
                if name in queries:
                    raise ValueError(f"query {name!r} defined in two files")
                queries[name] = sql
    return queries


def load_migrations(dialect: str) -> list[tuple[int, str, str]]:
    """(version, file name, script) in version order."""
    folder = resources.files("mainspring.store").joinpath("migrations", dialect)
    found = []
    for entry in folder.iterdir():
        if entry.name.endswith(".sql"):
            version = int(entry.name.split("_", 1)[0])
            found.append((version, entry.name, entry.read_text()))
    return sorted(found)


def split_script(script: str) -> list[str]:
    """Statements of a migration file (comment lines dropped; no `;` inside statements)."""
    lines = [line for line in script.splitlines() if not line.strip().startswith("--")]
    return [part.strip() for part in "\n".join(lines).split(";") if part.strip()]
