"""What every client command shares: the server's URL and token, `--json`, parsing JSON input."""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, ParamSpec, TypeVar

import click
import orjson

from mainspring.cli.client import DEFAULT_URL, Client
from mainspring.clock import now_ms
from mainspring.domain.durations import parse_duration_ms, parse_instant_ms

P = ParamSpec("P")
R = TypeVar("R")


@dataclass(frozen=True, slots=True)
class Remote:
    client: Client
    json: bool


def remote(command: Callable[..., R]) -> Callable[..., R]:
    """Adds `--url`, `--token`, `--json` and hands the command a `Remote` as `remote`."""

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
    @click.option("--json", "as_json", is_flag=True, help="Print the server's JSON, for scripts.")
    @functools.wraps(command)
    def wrapped(url: str, token: str | None, as_json: bool, **kwargs: Any) -> R:
        with _client(url, token) as client:
            return command(remote=Remote(client, as_json), **kwargs)

    return wrapped


@contextmanager
def _client(url: str, token: str | None) -> Iterator[Client]:
    client = Client(url, token)
    try:
        yield client
    finally:
        client.close()


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
