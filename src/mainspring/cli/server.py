"""`mainspring dev`, `mainspring start` and `mainspring migrate`: settings in, server up."""

from __future__ import annotations

import contextlib
import logging
import os
import socket
from collections.abc import Iterator
from typing import Any

import click

from mainspring import errors
from mainspring.cli.options import given, option, server_params
from mainspring.protocol import signing
from mainspring.settings import Mode, Settings
from mainspring.settings.flags import ignored_notes

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


@click.command(params=server_params("dev"))
@click.pass_context
def dev(ctx: click.Context, /, **_: Any) -> None:
    """Run the development server (SQLite, no keys, auto-sync of -u URLs)."""
    settings = _load(ctx, "dev")
    _start_logging(ctx, "dev", settings)
    serve(settings)


@click.command(params=server_params("start"))
@click.pass_context
def start(ctx: click.Context, /, **_: Any) -> None:
    """Run the production server: keys required, requests signed, API and dashboard
    behind tokens and a login."""
    settings = _check_keys(_load(ctx, "start"))
    _start_logging(ctx, "start", settings)
    _log_keys(settings)
    serve(settings)


@click.command(params=[option("db", "dev")])
@click.option("--print-sql", is_flag=True, help="Print the schema DDL without connecting.")
@click.option("--check", is_flag=True, help="Exit non-zero when migrations are pending.")
def migrate(db: str, print_sql: bool, check: bool) -> None:
    """Apply the schema migrations (start-up does this too, under a lock)."""
    from mainspring.store import migrations

    if print_sql:
        click.echo(migrations.ddl(db), nl=False)
        return
    if check:
        pending = migrations.pending(db)
        for name in pending:
            click.echo(f"pending: {name}")
        if pending:
            raise errors.StoreError(f"{len(pending)} migration(s) pending")
        click.echo("schema is up to date")
        return
    for name in migrations.apply(db):
        click.echo(f"applied: {name}")
    click.echo("schema is up to date")


def _load(ctx: click.Context, mode: Mode) -> Settings:
    values = given(ctx)
    return Settings.load(mode, values, os.environ, values.pop("config", None))


def configure_logging(settings: Settings) -> None:
    """Our loggers at `--log-level`; other libraries' at info or above (their debug is noise)."""
    logging.basicConfig(format=LOG_FORMAT)
    logging.getLogger().setLevel(max(settings.logging_level, logging.INFO))
    logging.getLogger("mainspring").setLevel(settings.logging_level)


def _start_logging(ctx: click.Context, mode: Mode, settings: Settings) -> None:
    configure_logging(settings)
    for note in ignored_notes(given(ctx), mode):
        logging.getLogger("mainspring").info(note)


def _check_keys(settings: Settings) -> Settings:
    key = (settings.signing_key or "").strip()
    if not key:
        raise errors.ConfigError(
            "a signing key is required: --signing-key, INNGEST_SIGNING_KEY or the config file"
        )
    fallback = (settings.signing_key_fallback or "").strip() or None
    for name, value in (("--signing-key", key), ("--signing-key-fallback", fallback)):
        if value is not None and not signing.is_valid_signing_key(value):
            raise errors.ConfigError(
                f"{name} must be hex (optionally prefixed signkey-<env>-), "
                "e.g. from `openssl rand -hex 32`"
            )
    event_keys = tuple(k.strip() for k in settings.event_keys if k.strip())
    if not event_keys:
        raise errors.ConfigError(
            "at least one event key is required: --event-key, INNGEST_EVENT_KEY or the config file"
        )
    env_keys = tuple(_env_signing_key(entry) for entry in settings.env_signing_keys)
    update = {
        "signing_key": key,
        "signing_key_fallback": fallback,
        "event_keys": event_keys,
        "env_signing_keys": env_keys,
    }
    return settings.model_copy(update=update)


def _env_signing_key(entry: str) -> str:
    name, sep, key = entry.strip().partition("=")
    if not sep or not name or not signing.is_valid_signing_key(key.strip()):
        raise errors.ConfigError(
            "--env-signing-key takes NAME=KEY (NAME an environment or `*` for branches, "
            "KEY hex, optionally prefixed signkey-<env>-)"
        )
    return f"{name.strip()}={key.strip()}"


def _log_keys(settings: Settings) -> None:
    """Keys are never logged, only the first hex digits of their hashes."""
    log = logging.getLogger("mainspring")
    log.info("signing key sha256:%s", signing.fingerprint(settings.signing_key or ""))
    if settings.signing_key_fallback:
        log.info(
            "fallback signing key sha256:%s (rotation in progress)",
            signing.fingerprint(settings.signing_key_fallback),
        )
    fingerprints = (f"sha256:{signing.fingerprint(k)}" for k in settings.event_keys)
    log.info("event keys: %s", ", ".join(fingerprints))


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        reason = "already in use" if exc.errno == 98 else exc.strerror
        raise errors.ConfigError(f"cannot listen on {host}:{port}: {reason}") from None
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


def _bind_gateway(host: str, port: int) -> socket.socket:
    """The Connect gateway's socket. Workers learn its address from `/v0/connect/start`, so
    when the port is taken (a second server on one machine) any free port serves as well."""
    try:
        return _bind(host, port)
    except errors.ConfigError as exc:
        logging.getLogger("mainspring").warning("%s; the Connect gateway takes a free port", exc)
        return _bind(host, 0)


def serve(settings: Settings) -> None:
    import uvicorn

    class _Server(uvicorn.Server):
        """A SIGTERM/SIGINT is a request to stop gracefully and exit 0, not to die afterwards
        (uvicorn re-raises the captured signal once it has shut down)."""

        @contextlib.contextmanager
        def capture_signals(self) -> Iterator[None]:
            with super().capture_signals():
                yield
                self._captured_signals.clear()

        async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
            await gateway.announce_closing()  # Connect workers reconnect to another process
            close_streams(app)  # realtime subscribers would hold up the wait for requests
            await super().shutdown(sockets)

    from mainspring.api.app import build_app, close_streams
    from mainspring.connect.gateway import by_port
    from mainspring.serving import collector
    from mainspring.serving.limits import ConnectionLimits
    from mainspring.serving.protocol import protocol_class
    from mainspring.store import open_connector

    configure_logging(settings)
    if not settings.production and settings.host not in ("127.0.0.1", "localhost", "::1"):
        logging.getLogger("mainspring").warning(
            "dev mode has no authentication; listening on %s exposes it", settings.host
        )
    sock = _bind(settings.host, settings.port)
    # a bad --db is the one error line, before any bind
    connector = open_connector(settings.db, settings.durability)
    gateway_sock = _bind_gateway(settings.host, settings.connect_gateway_port)
    app = build_app(settings, connector)
    gateway = app.state.services.connect
    gateway.port = gateway_sock.getsockname()[1]  # what /v0/connect/start hands out
    collector.tune()  # the app is built: what lives as long as the process is frozen
    server = _Server(
        uvicorn.Config(
            by_port(app, gateway.asgi(), gateway.port),
            loop="uvloop",
            http=protocol_class(
                ConnectionLimits(settings.header_timeout_s, settings.max_connections)
            ),
            timeout_keep_alive=settings.keep_alive_s,
            # Realtime sends one message to many WebSockets: compressing it once per
            # connection would cost more than the bytes saved on small JSON messages.
            ws_per_message_deflate=False,
            lifespan="on",
            access_log=False,
            log_level=max(settings.logging_level, logging.WARNING),
            timeout_graceful_shutdown=int(settings.shutdown_timeout_s) + 5,
        )
    )
    server.run(sockets=[sock, gateway_sock])  # uvicorn's runner applies the uvloop loop factory
    if not server.started:
        raise errors.ConfigError("the server failed to start (see the log above)")
