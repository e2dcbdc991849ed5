"""Session-wide fixtures: fresh PostgreSQL databases for the dialect-parametrized suites.

PostgreSQL is found at $MAINSPRING_TEST_POSTGRES_URL (default
postgresql://postgres@127.0.0.1:5432/test). A template database `ms_template_<pid>` gets the
schema once per session (`python -m mainspring migrate`); each test or module gets its own
`CREATE DATABASE … TEMPLATE` clone, dropped afterwards. When the server is unreachable the
PostgreSQL tests are skipped with the reason (and a banner at the end of the run), except under
CI=true, where they fail.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from integration.harness import (
    PostgresDatabases,
    close_postgres,
    postgres_databases,
    postgres_unavailable_reason,
)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "sqlite_only: store contract test that is SQLite-specific")
    config.addinivalue_line(
        "markers", "postgres_only: store contract test that is PostgreSQL-specific"
    )


@pytest.fixture(scope="session", autouse=True)
def _drop_postgres_databases_at_exit() -> Iterator[None]:
    """Drop the template and any clone left behind once the session ends (no-op if unused)."""
    yield
    close_postgres()


@pytest.fixture(scope="session")
def pg_databases() -> PostgresDatabases:
    """The session's template (created on first use); skips/fails when PG is unreachable."""
    databases = postgres_databases()
    databases.ensure_template()
    return databases


@pytest.fixture
def postgres_url(pg_databases: PostgresDatabases) -> Iterator[str]:
    """A fresh, migrated PostgreSQL database for one test; dropped afterwards."""
    url = pg_databases.create()
    yield url
    pg_databases.drop(url)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    reason = postgres_unavailable_reason()
    if reason is not None:
        terminalreporter.section("PostgreSQL tests were SKIPPED", sep="!", red=True, bold=True)
        terminalreporter.line(reason, red=True)
