"""`mainspring keys …`: event keys and API tokens, stored hashed (a secret is shown once)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import click

from mainspring import errors
from mainspring.cli.options import option

T = TypeVar("T")


def _run(db: str, work: Callable[[Any], Awaitable[T]]) -> T:
    from mainspring.audit import actors
    from mainspring.auth.keys import Keyring
    from mainspring.clock import now_ms
    from mainspring.store import open_connector

    async def main() -> T:
        connector = open_connector(db)
        try:
            keyring = Keyring(connector, event_keys=(), signing_keys=(), clock=now_ms)
            with actors.acting_as(actors.cli()):  # the audit log names the OS user
                return await work(keyring)
        finally:
            await connector.close()

    return asyncio.run(main())


@click.group()
def keys() -> None:
    """Event keys and API tokens, stored hashed (a secret is shown once, when created).
    With SQLite, stop the server first (or use the admin API)."""


@keys.command("create-event-key", params=[option("db", "start")])
@click.argument("name")
def create_event_key(db: str, name: str) -> None:
    created = _run(db, lambda k: k.create_event_key(name))
    click.echo(f"event key {created['name']} ({created['id']}): {created['key']}")


@keys.command("create-token", params=[option("db", "start")])
@click.option("--scope", type=click.Choice(["read", "admin"]), default="read", show_default=True)
@click.argument("name")
def create_token(db: str, scope: str, name: str) -> None:
    created = _run(db, lambda k: k.create_token(name, scope))
    click.echo(f"{scope} token {created['name']} ({created['id']}): {created['token']}")


@keys.command("list", params=[option("db", "start")])
def list_all(db: str) -> None:
    async def both(k: Any) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        return await k.event_keys(), await k.tokens()

    event_keys, tokens = _run(db, both)
    for row in event_keys:
        state = "revoked" if row["revoked_at"] else "active"
        click.echo(f"event-key {row['id']} {row['name']} sha256:{row['hash_prefix']} {state}")
    for row in tokens:
        state = "revoked" if row["revoked_at"] else "active"
        label = f"{row['id']} {row['name']} {row['scope']}"
        click.echo(f"token {label} sha256:{row['hash_prefix']} {state}")


@keys.command("revoke", params=[option("db", "start")])
@click.argument("kind", type=click.Choice(["event-key", "token"]))
@click.argument("ref")
def revoke(db: str, kind: str, ref: str) -> None:
    """Revoke by id or name."""
    done = _run(
        db, lambda k: k.revoke_event_key(ref) if kind == "event-key" else k.revoke_token(ref)
    )
    if not done:
        raise errors.ConfigError(f"no active {kind} {ref}")
    click.echo(f"revoked {kind} {ref}")
