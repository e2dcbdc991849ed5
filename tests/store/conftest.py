from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from integration.harness import postgres_databases
from mainspring.store import open_connector
from mainspring.store.base import Connector

DIALECTS = ["sqlite", "postgres"]


@pytest.fixture(params=DIALECTS)
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """One contract suite for every dialect: a fresh SQLite file or a fresh PostgreSQL database.

    `@pytest.mark.sqlite_only` / `@pytest.mark.postgres_only` skip a test on the other dialect.
    """
    dialect: str = request.param
    for marker, only in (("sqlite_only", "sqlite"), ("postgres_only", "postgres")):
        if request.node.get_closest_marker(marker) is not None and dialect != only:
            pytest.skip(f"{only} only: {dialect} has no such behaviour to test")
    if dialect == "sqlite":
        yield str(tmp_path / "contract.db")
        return
    databases = postgres_databases()  # skips (or fails under CI=true) when unreachable
    url = databases.create()
    try:
        yield url
    finally:
        databases.drop(url)


@pytest.fixture
async def connector(db_url: str) -> AsyncIterator[Connector]:
    conn = open_connector(db_url)
    yield conn
    await conn.close()
