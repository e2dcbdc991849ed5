"""`mainspring dev | version`: the flags `inngest-cli dev` users already type, each with a
MAINSPRING_* environment twin. Failures print one line, never a traceback."""

from __future__ import annotations

import contextlib
import logging
import socket
import sys
from collections.abc import Iterator
from typing import Any

import click

from mainspring import __version__, config, errors
from mainspring.cli_settings import shared_settings

ERROR_PREFIX = "mainspring: error:"


def _fail(message: str, code: int = 1) -> None:
    click.echo(f"{ERROR_PREFIX} {message}", err=True)
    sys.exit(code)


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


def serve(settings: config.Settings) -> None:
    import uvicorn

    class _Server(uvicorn.Server):
        """A SIGTERM/SIGINT is a request to stop gracefully and exit 0, not to die afterwards
        (uvicorn re-raises the captured signal once it has shut down)."""

        @contextlib.contextmanager
        def capture_signals(self) -> Iterator[None]:
            with super().capture_signals():
                yield
                self._captured_signals.clear()

    from mainspring.api.app import build_app
    from mainspring.serving.limits import ConnectionLimits
    from mainspring.serving.protocol import protocol_class
    from mainspring.store import open_connector

    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    if not settings.production and settings.host not in ("127.0.0.1", "localhost", "::1"):
        logging.getLogger("mainspring").warning(
            "dev mode has no authentication; listening on %s exposes it", settings.host
        )
    sock = _bind(settings.host, settings.port)
    connector = open_connector(settings.db)
    app = build_app(settings, connector)
    server = _Server(
        uvicorn.Config(
            app,
            loop="uvloop",
            http=protocol_class(
                ConnectionLimits(settings.header_timeout_s, settings.max_connections)
            ),
            timeout_keep_alive=settings.keep_alive_s,
            lifespan="on",
            access_log=False,
            log_level="warning",
            timeout_graceful_shutdown=int(settings.shutdown_timeout_s) + 5,
        )
    )
    server.run(sockets=[sock])  # uvicorn's runner applies the uvloop loop factory
    if not server.started:
        raise errors.ConfigError("the server failed to start (see the log above)")


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def cli() -> None:
    """Mainspring: durable functions for apps on the official Inngest SDKs."""


@cli.command()
def version() -> None:
    """Print the version."""
    click.echo(f"mainspring {__version__}")


def _env(name: str) -> str:
    return f"MAINSPRING_{name}"


_db_option = click.option(
    "--db",
    "--postgres-uri",
    "db",
    default=config.DEFAULT_DB,
    show_default=True,
    envvar=[_env("DATABASE_URL"), _env("DB")],
    help="SQLite path, or postgresql://… to share one database among processes.",
)


@cli.command()
@click.option(
    "-u",
    "--sdk-url",
    "sdk_urls",
    multiple=True,
    envvar=_env("SDK_URL"),
    help="URL of an app's serve endpoint to sync (repeatable).",
)
@click.option(
    "-p",
    "--port",
    default=config.DEFAULT_PORT,
    show_default=True,
    envvar=_env("PORT"),
    type=click.IntRange(1, 65535),
)
@click.option("--host", default="127.0.0.1", show_default=True, envvar=_env("HOST"))
@click.option(
    "--no-discovery",
    is_flag=True,
    envvar=_env("NO_DISCOVERY"),
    help="Do not probe local ports for apps.",
)
@click.option(
    "--no-poll", is_flag=True, envvar=_env("NO_POLL"), help="Do not re-sync apps periodically."
)
@click.option(
    "--poll-interval",
    default=config.DEFAULT_POLL_INTERVAL_S,
    show_default=True,
    envvar=_env("POLL_INTERVAL"),
    type=click.FloatRange(min=0.1),
    help="Seconds.",
)
@_db_option
@click.option(
    "--lease-seconds",
    default=config.LEASE_MS / 1000,
    show_default=True,
    envvar=_env("LEASE_SECONDS"),
    type=click.FloatRange(min=1),
    help="A dead process's work is taken over after this long.",
)
@click.option(
    "--backoff-base",
    default=1.0,
    show_default=True,
    envvar=_env("BACKOFF_BASE"),
    type=click.FloatRange(min=0.0),
    help="Seconds before the first retry; doubles.",
)
@click.option(
    "--backoff-max",
    default=3600.0,
    show_default=True,
    envvar=_env("BACKOFF_MAX"),
    type=click.FloatRange(min=0.0),
    help="Longest delay between retries, seconds.",
)
@click.option(
    "--call-timeout",
    default=config.DEFAULT_CALL_TIMEOUT_S,
    show_default=True,
    envvar=_env("CALL_TIMEOUT"),
    type=click.FloatRange(min=1),
    help="Seconds per SDK call.",
)
@click.option(
    "--max-in-flight",
    default=256,
    show_default=True,
    envvar=_env("MAX_IN_FLIGHT"),
    type=click.IntRange(min=1),
    help="SDK calls in flight at once.",
)
@click.option(
    "--shutdown-timeout",
    default=30.0,
    show_default=True,
    envvar=_env("SHUTDOWN_TIMEOUT"),
    type=click.FloatRange(min=0),
    help="Seconds to let in-flight calls finish on SIGTERM.",
)
@click.option(
    "--state-limit",
    default=config.DEFAULT_STATE_LIMIT_BYTES,
    show_default=True,
    envvar=_env("STATE_LIMIT"),
    type=click.IntRange(min=1024),
    help="Call bodies above this many bytes make the SDK fetch state via the API.",
)
@click.option(
    "--max-body-bytes",
    default=config.DEFAULT_MAX_BODY_BYTES,
    show_default=True,
    envvar=_env("MAX_BODY_BYTES"),
    type=click.IntRange(min=1024),
    help="Largest request body accepted by the event and sync APIs.",
)
@click.option(
    "--zombie-check-interval",
    default=config.Settings().zombie_check_interval_s,
    show_default=True,
    envvar=_env("ZOMBIE_CHECK_INTERVAL"),
    type=click.FloatRange(min=0),
    help="Seconds between checks for Running runs with nothing queued (0: off).",
)
@click.option(
    "--zombie-grace",
    default=config.Settings().zombie_grace_s,
    show_default=True,
    envvar=_env("ZOMBIE_GRACE"),
    type=click.FloatRange(min=0, max=config.MAX_ZOMBIE_GRACE_S),
    help="Seconds a run must be unchanged before the check re-queues it.",
)
@click.option(
    "--header-timeout",
    default=config.DEFAULT_HEADER_TIMEOUT_S,
    show_default=True,
    envvar=_env("HEADER_TIMEOUT"),
    type=click.FloatRange(min=0.1),
    help="Seconds for a client to send its request line and headers; then 408 and close.",
)
@click.option(
    "--keep-alive-timeout",
    default=config.DEFAULT_KEEP_ALIVE_S,
    show_default=True,
    envvar=_env("KEEP_ALIVE_TIMEOUT"),
    type=click.IntRange(min=1),
    help="Seconds an idle keep-alive connection stays open.",
)
@click.option(
    "--max-connections",
    default=config.DEFAULT_MAX_CONNECTIONS,
    show_default=True,
    envvar=_env("MAX_CONNECTIONS"),
    type=click.IntRange(min=1),
    help="Open connections served at once; requests on further ones get 503.",
)
def dev(**options: Any) -> None:
    """Run the development server (SQLite, no keys, auto-sync of -u URLs)."""
    serve(config.Settings(**shared_settings(options), discovery=not options["no_discovery"]))


@cli.command()
@_db_option
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


from mainspring import cli_production  # noqa: E402  (`start` reuses dev's tuning flags)

cli_production.attach(cli, dev, serve)


def main(argv: list[str] | None = None) -> None:
    try:
        cli.main(args=argv, prog_name="mainspring", standalone_mode=False)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except click.Abort:
        sys.exit(130)
    except click.ClickException as exc:
        _fail(exc.format_message(), exc.exit_code)
    except errors.MainspringError as exc:
        _fail(exc.message, 2 if isinstance(exc, errors.ConfigError) else 1)
    except KeyboardInterrupt:
        sys.exit(0)
