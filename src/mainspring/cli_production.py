"""`mainspring start` (production) and `mainspring keys …`, attached to the CLI in cli.py.

`start` takes the flags `inngest start` users know, each also as MAINSPRING_* and INNGEST_*,
plus every tuning flag of `dev` (shared objects, so the two commands never drift apart).
Values come from, in order: the command line, the environment, the `--config` file, defaults.
"""

from __future__ import annotations

import asyncio
import json
import logging
import tomllib
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from mainspring import config, errors
from mainspring.cli_settings import shared_settings
from mainspring.protocol import signing

T = TypeVar("T")
DEFAULT_PRODUCTION_DB = "./.mainspring/mainspring.db"
# dev flags that start replaces with its own (INNGEST_* twins, other defaults) or does not have
_NOT_SHARED = {"sdk_urls", "host", "port", "db", "no_discovery"}


def _env(name: str) -> list[str]:
    return [f"MAINSPRING_{name}", f"INNGEST_{name}"]


def _load_config(ctx: click.Context, _: click.Parameter, path: str | None) -> str | None:
    """TOML (`.toml`) or JSON: keys are flag names (`signing-key`, `event-key = ["…"]`)."""
    if not path:
        return path
    try:
        text = Path(path).read_text()
        data = tomllib.loads(text) if not path.endswith(".json") else json.loads(text)
    except (OSError, ValueError) as exc:
        raise click.BadParameter(f"cannot read {path}: {exc}") from None
    if not isinstance(data, dict):
        raise click.BadParameter(f"{path}: expected a table of flag names")
    defaults = {str(key).replace("-", "_"): value for key, value in data.items()}
    for name, param in (("event_key", "event_keys"), ("sdk_url", "sdk_urls")):
        if name in defaults:
            defaults[param] = defaults.pop(name)
    for param in ("event_keys", "sdk_urls", "app_url_allow"):  # one value or a list
        if isinstance(defaults.get(param), str):
            defaults[param] = [defaults[param]]
    ctx.default_map = {**(ctx.default_map or {}), **defaults}
    return path


def _check_keys(options: dict[str, Any]) -> tuple[str, str | None, tuple[str, ...]]:
    key = (options["signing_key"] or "").strip()
    if not key:
        raise errors.ConfigError(
            "a signing key is required: --signing-key, INNGEST_SIGNING_KEY or the config file"
        )
    fallback = (options["signing_key_fallback"] or "").strip() or None
    for name, value in (("--signing-key", key), ("--signing-key-fallback", fallback)):
        if value is not None and not signing.is_valid_signing_key(value):
            raise errors.ConfigError(
                f"{name} must be hex (optionally prefixed signkey-<env>-), "
                "e.g. from `openssl rand -hex 32`"
            )
    event_keys = tuple(k.strip() for k in options["event_keys"] if k.strip())
    if not event_keys:
        raise errors.ConfigError(
            "at least one event key is required: --event-key, INNGEST_EVENT_KEY or the config file"
        )
    return key, fallback, event_keys


def _log_keys(key: str, fallback: str | None, event_keys: tuple[str, ...]) -> None:
    """Keys are never logged, only the first hex digits of their hashes."""
    log = logging.getLogger("mainspring")
    log.info("signing key sha256:%s", signing.fingerprint(key))
    if fallback:
        log.info(
            "fallback signing key sha256:%s (rotation in progress)", signing.fingerprint(fallback)
        )
    log.info("event keys: %s", ", ".join(f"sha256:{signing.fingerprint(k)}" for k in event_keys))


def start_settings(options: dict[str, Any]) -> config.Settings:
    key, fallback, event_keys = _check_keys(options)
    return config.Settings(
        **shared_settings(options),
        discovery=False,
        server_kind="cloud",
        signing_key=key,
        signing_key_fallback=fallback,
        event_keys=event_keys,
        verify_responses=options["verify_responses"],
        app_url_allow=tuple(options["app_url_allow"]),
        session_ttl_s=options["session_ttl"],
        max_reply_bytes=options["max_reply_bytes"],
    )


def attach(cli: click.Group, dev: click.Command, serve: Callable[[config.Settings], None]) -> None:
    @cli.command()
    @click.option(
        "--config",
        type=click.Path(dir_okay=False),
        envvar=_env("CONFIG"),
        is_eager=True,
        expose_value=False,
        callback=_load_config,
        help="TOML or JSON file of flag values (flags and environment win).",
    )
    @click.option("--signing-key", envvar=_env("SIGNING_KEY"), help="Hex; never logged.")
    @click.option(
        "--signing-key-fallback",
        envvar=_env("SIGNING_KEY_FALLBACK"),
        help="The previous signing key, accepted during a rotation.",
    )
    @click.option(
        "--event-key",
        "event_keys",
        multiple=True,
        envvar=_env("EVENT_KEY"),
        help="An event key senders may use (repeatable).",
    )
    @click.option(
        "-u",
        "--sdk-url",
        "sdk_urls",
        multiple=True,
        envvar=_env("SDK_URL"),
        help="URL of an app's serve endpoint to sync (repeatable).",
    )
    @click.option("--host", default="0.0.0.0", show_default=True, envvar=_env("HOST"))
    @click.option(
        "-p",
        "--port",
        default=config.DEFAULT_PORT,
        show_default=True,
        envvar=_env("PORT"),
        type=click.IntRange(1, 65535),
    )
    @click.option(
        "--db",
        "--postgres-uri",
        "db",
        default=DEFAULT_PRODUCTION_DB,
        show_default=True,
        envvar=["MAINSPRING_DATABASE_URL", "MAINSPRING_DB", "INNGEST_POSTGRES_URI"],
        help="SQLite path, or postgresql://… to run several processes on one database.",
    )
    @click.option(
        "--verify-responses/--no-verify-responses",
        default=True,
        show_default=True,
        envvar="MAINSPRING_VERIFY_RESPONSES",
        help="Fail a call whose reply is not signed with our key.",
    )
    @click.option(
        "--app-url-allow",
        multiple=True,
        envvar="MAINSPRING_APP_URL_ALLOW",
        help="Only call app URLs starting with this prefix (repeatable; SSRF guard).",
    )
    @click.option(
        "--session-ttl",
        default=config.DEFAULT_SESSION_TTL_S,
        show_default=True,
        envvar="MAINSPRING_SESSION_TTL",
        type=click.IntRange(min=60),
        help="Dashboard login lifetime, seconds.",
    )
    @click.option(
        "--max-reply-bytes",
        default=config.Settings().max_reply_bytes,
        show_default=True,
        envvar="MAINSPRING_MAX_REPLY_BYTES",
        type=click.IntRange(min=1024),
        help="Largest SDK reply accepted; a larger one is a retriable failure.",
    )
    def start(**options: Any) -> None:
        """Run the production server: keys required, requests signed, API and dashboard
        behind tokens and a login."""
        settings = start_settings(options)
        logging.basicConfig(
            level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
        )
        _log_keys(settings.signing_key or "", settings.signing_key_fallback, settings.event_keys)
        serve(settings)

    start.params.extend(p for p in dev.params if p.name not in _NOT_SHARED)
    cli.add_command(_keys_group())


def _run(db: str, work: Callable[[Any], Awaitable[T]]) -> T:
    from mainspring.auth.keys import Keyring
    from mainspring.clock import now_ms
    from mainspring.store import open_connector

    async def main() -> T:
        connector = open_connector(db)
        try:
            keyring = Keyring(connector, event_keys=(), signing_keys=(), clock=now_ms)
            return await work(keyring)
        finally:
            await connector.close()

    return asyncio.run(main())


def _keys_group() -> click.Group:
    db_option = click.option(
        "--db",
        "--postgres-uri",
        "db",
        default=DEFAULT_PRODUCTION_DB,
        show_default=True,
        envvar=["MAINSPRING_DATABASE_URL", "MAINSPRING_DB", "INNGEST_POSTGRES_URI"],
    )

    @click.group()
    def keys() -> None:
        """Event keys and API tokens, stored hashed (a secret is shown once, when created).
        With SQLite, stop the server first (or use the admin API)."""

    @keys.command("create-event-key")
    @db_option
    @click.argument("name")
    def create_event_key(db: str, name: str) -> None:
        created = _run(db, lambda k: k.create_event_key(name))
        click.echo(f"event key {created['name']} ({created['id']}): {created['key']}")

    @keys.command("create-token")
    @db_option
    @click.option(
        "--scope", type=click.Choice(["read", "admin"]), default="read", show_default=True
    )
    @click.argument("name")
    def create_token(db: str, scope: str, name: str) -> None:
        created = _run(db, lambda k: k.create_token(name, scope))
        click.echo(f"{scope} token {created['name']} ({created['id']}): {created['token']}")

    @keys.command("list")
    @db_option
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

    @keys.command("revoke")
    @db_option
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

    return keys
