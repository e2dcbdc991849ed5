"""`mainspring keys …`: event keys and API tokens, stored hashed (a secret is shown once).

`--env` names an environment the database knows: the default one, or one in its list (a
`--env` the server started with, or a branch environment an app has synced)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Iterator
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
@click.option(
    "--env", default="production", show_default=True, help="The environment its events go to."
)
@click.argument("name")
def create_event_key(db: str, env: str, name: str) -> None:
    async def work(k: Any) -> dict[str, Any]:
        from mainspring.auth.keys import check_env

        with _as_config_error():
            checked = check_env(env, await k.known_environments(), "--env")
            return await k.create_event_key(name, checked)  # type: ignore[no-any-return]

    created = _run(db, work)
    label = f"{created['name']} ({created['id']}, {created['env']})"
    click.echo(f"event key {label}: {created['key']}")


@keys.command("create-token", params=[option("db", "start")])
@click.option("--scope", type=click.Choice(["read", "admin"]), default="read", show_default=True)
@click.option(
    "--env",
    "envs",
    multiple=True,
    help="An environment it may be used in (repeatable); none given: every environment.",
)
@click.argument("name")
def create_token(db: str, scope: str, envs: tuple[str, ...], name: str) -> None:
    async def work(k: Any) -> dict[str, Any]:
        from mainspring.auth.keys import check_envs

        with _as_config_error():
            known = await k.known_environments()
            checked = check_envs(list(envs), known) if envs else None
            return await k.create_token(name, scope, checked)  # type: ignore[no-any-return]

    created = _run(db, work)
    where = ", ".join(created["environments"] or ["all environments"])
    click.echo(f"{scope} token {created['name']} ({created['id']}, {where}): {created['token']}")


@contextlib.contextmanager
def _as_config_error() -> Iterator[None]:
    """A bad `--env` is a usage error (exit 2), named like the option."""
    try:
        yield
    except errors.InvalidInput as exc:
        field = "--env" if exc.field == "environments" else exc.field
        raise errors.ConfigError(f"{field}: {exc.message}") from None


@keys.command("list", params=[option("db", "start")])
def list_all(db: str) -> None:
    async def both(k: Any) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        return await k.event_keys(), await k.tokens()

    event_keys, tokens = _run(db, both)
    for row in event_keys:
        state = "revoked" if row["revoked_at"] else "active"
        label = f"{row['id']} {row['name']} env={row['env']}"
        click.echo(f"event-key {label} sha256:{row['hash_prefix']} {state}")
    for row in tokens:
        state = "revoked" if row["revoked_at"] else "active"
        envs = ",".join(row["environments"] or ["*"])  # *: every environment
        label = f"{row['id']} {row['name']} {row['scope']} envs={envs}"
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
