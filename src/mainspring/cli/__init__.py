"""The `mainspring` command line: `dev`, `start`, `migrate`, `keys …`, `version`, and the client
commands against a running server (`send`, `invoke`, `runs …`, `functions …`, `kill-switch …`,
`envs list`), in one of its environments with `--env`, over its public REST API; their exit
codes are in cli/client.py.

The flags are the ones `inngest-cli dev` and `inngest start` users already type, each with its
environment twins (cli/options.py). Failures print one line, never a traceback."""

from __future__ import annotations

import sys

import click

from mainspring import __version__, errors
from mainspring.cli import (
    client,
    environments,
    events,
    functions,
    keys,
    kill_switch,
    remote,
    runs,
    server,
)

ERROR_PREFIX = "mainspring: error:"


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--env",
    envvar="MAINSPRING_ENV",
    default=None,
    help="Client commands act in this environment of the server (sent as X-Inngest-Env; "
    "env MAINSPRING_ENV). Not `dev --env` or `start --env`, which say what a server serves.",
)
@click.pass_context
def cli(ctx: click.Context, env: str | None) -> None:
    """Mainspring: durable functions for apps on the official Inngest SDKs."""
    ctx.meta[remote.ENV_KEY] = remote.checked_env(env) if env else None


@cli.command()
def version() -> None:
    """Print the version."""
    click.echo(f"mainspring {__version__}")


cli.add_command(server.dev)
cli.add_command(server.start)
cli.add_command(server.migrate)
cli.add_command(keys.keys)
cli.add_command(events.send)
cli.add_command(events.invoke)
cli.add_command(runs.runs)
cli.add_command(functions.functions)
cli.add_command(kill_switch.kill_switch)
cli.add_command(environments.envs)


def _fail(message: str, code: int = 1) -> None:
    click.echo(f"{ERROR_PREFIX} {message}", err=True)
    sys.exit(code)


def main(argv: list[str] | None = None) -> None:
    try:
        cli.main(args=argv, prog_name="mainspring", standalone_mode=False)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except click.Abort:
        sys.exit(130)
    except click.ClickException as exc:
        _fail(exc.format_message(), exc.exit_code)
    except client.ApiError as exc:
        _fail(exc.message, exc.exit_code)
    except errors.MainspringError as exc:
        _fail(exc.message, 2 if isinstance(exc, errors.ConfigError) else 1)
    except KeyboardInterrupt:
        sys.exit(0)
