from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from mainspring.store.base import Connector
from mainspring.store.sqlite import SqliteConnector


@pytest.fixture(params=["sqlite"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """One contract suite for every dialect; PostgreSQL joins the params in its issue."""
    yield str(tmp_path / "contract.db")


@pytest.fixture
async def connector(db_url: str) -> AsyncIterator[Connector]:
    conn = SqliteConnector(db_url)
    yield conn
    await conn.close()
