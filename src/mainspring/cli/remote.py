"""What every client command shares: the server's URL, token and environment, `--json`, parsing
JSON input."""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, ParamSpec, TypeVar

import click
import orjson

from mainspring import errors
from mainspring.cli.client import DEFAULT_URL, NOT_FOUND, UNAUTHORIZED, ApiError, Client
from mainspring.clock import now_ms
from mainspring.domain.durations import parse_duration_ms, parse_instant_ms
from mainspring.environments import names

P = ParamSpec("P")
R = TypeVar("R")


ENV_KEY = "mainspring.env"  # the group's `--env` / MAINSPRING_ENV, in the click context's meta


@dataclass(frozen=True, slots=True)
class Remote:
    client: Client
    json: bool


def remote(command: Callable[..., R]) -> Callable[..., R]:
    """Adds `--url`, `--token`, `--env`, `--json` and hands the command a `Remote` as `remote`.
    `--env` here wins over `mainspring --env` and MAINSPRING_ENV (the group's option)."""

    @click.option(
        "--url",
        envvar="MAINSPRING_URL",
        default=DEFAULT_URL,
        show_default=True,
        help="The server's base URL (env MAINSPRING_URL).",
    )
    @click.option(
        "--token",
        envvar="MAINSPRING_TOKEN",
        default=None,
        help="API token, when the server runs with `start` (env MAINSPRING_TOKEN).",
    )
    @click.option(
        "--env",
        default=None,
        help="The server's environment to act in (default: `mainspring --env`, MAINSPRING_ENV, "
        "else the server's default one).",
    )
    @click.option("--json", "as_json", is_flag=True, help="Print the server's JSON, for scripts.")
    @functools.wraps(command)
    def wrapped(url: str, token: str | None, env: str | None, as_json: bool, **kwargs: Any) -> R:
        env = checked_env(env) if env else click.get_current_context().meta.get(ENV_KEY)
        with _client(url, token, env) as client:
            if env:
                _check_env(client, env)
            return command(remote=Remote(client, as_json), **kwargs)

    return wrapped


@contextmanager
def _client(url: str, token: str | None, env: str | None) -> Iterator[Client]:
    client = Client(url, token, env)
    try:
        yield client
    finally:
        client.close()


def checked_env(name: str) -> str:
    """An `--env` that no server would accept is a usage error here (exit 2), named so."""
    try:
        return names.check(name, "--env")
    except errors.InvalidInput as exc:
        raise click.BadParameter(exc.message, param_hint="--env") from None


def _check_env(client: Client, env: str) -> None:
    """A server with environments off ignores `X-Inngest-Env` and acts in its only one: refuse
    before a command meant for staging turns production's kill switch on. (A server with them on
    answers 404 naming `env` for one it does not serve.) Without a token that may read the list
    (`send` needs only an event key) the server's own answer has to do."""
    try:
        listed = client.data("GET", "/v1/environments")
    except ApiError as exc:
        if exc.exit_code == UNAUTHORIZED:
            return
        raise
    current = next((row["name"] for row in listed if row.get("current")), None)
    if current != env:
        served = ", ".join(row["name"] for row in listed if row.get("served"))
        message = f"{client.url} has no environment {env!r} (it serves: {served})"
        raise ApiError(message, NOT_FOUND)


def json_object(text: str | None, option: str) -> dict[str, Any]:
    """`--data` (or stdin when it is not a terminal) as a JSON object; `{}` when neither."""
    if text is None:
        text = sys.stdin.read() if _piped() else ""
    if not text.strip():
        return {}
    try:
        value = orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        raise click.BadParameter(f"not JSON: {exc}", param_hint=option) from None
    if not isinstance(value, dict):
        raise click.BadParameter("must be a JSON object", param_hint=option)
    return value


def _piped() -> bool:
    try:
        return not sys.stdin.isatty()
    except (OSError, ValueError):  # no usable stdin (closed, or a test runner's stand-in)
        return False


def instant(text: str | None, option: str) -> int | None:
    """`--since`/`--until`: a duration back from now (`1h`, `2d`) or an RFC 3339 instant."""
    if text is None:
        return None
    try:
        return now_ms() - parse_duration_ms(text)
    except ValueError:
        pass
    try:
        return parse_instant_ms(text)
    except ValueError:
        message = "a duration such as 1h or 2d, or an RFC 3339 time"
        raise click.BadParameter(message, param_hint=option) from None
