"""The connection-hygiene flags (issue 13) and their MAINSPRING_* twins reach Settings, on both
`dev` and `start`."""

from __future__ import annotations

import click
import pytest

from mainspring import settings as config
from mainspring.cli import cli
from mainspring.settings.flags import shared_settings

FLAGS = {
    "header_timeout_s": ("--header-timeout", "MAINSPRING_HEADER_TIMEOUT", "2.5", 2.5),
    "keep_alive_s": ("--keep-alive-timeout", "MAINSPRING_KEEP_ALIVE_TIMEOUT", "7", 7),
    "max_connections": ("--max-connections", "MAINSPRING_MAX_CONNECTIONS", "40", 40),
}


def _settings(command: str, args: list[str]) -> config.Settings:
    group = cli
    assert isinstance(group, click.Group)
    cmd = group.commands[command]
    with cmd.make_context(command, args) as ctx:
        return config.Settings(**shared_settings(ctx.params))


@pytest.mark.parametrize("command", ["dev", "start"])
def test_defaults(command: str) -> None:
    settings = _settings(command, [])
    assert settings.header_timeout_s == config.DEFAULT_HEADER_TIMEOUT_S == 10.0
    assert settings.keep_alive_s == config.DEFAULT_KEEP_ALIVE_S
    assert settings.max_connections == config.DEFAULT_MAX_CONNECTIONS


@pytest.mark.parametrize("command", ["dev", "start"])
@pytest.mark.parametrize("field", sorted(FLAGS))
def test_flag_and_environment_twin(
    command: str, field: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    flag, env, raw, value = FLAGS[field]
    assert getattr(_settings(command, [flag, raw]), field) == value
    monkeypatch.setenv(env, raw)
    assert getattr(_settings(command, []), field) == value


@pytest.mark.parametrize(
    "args",
    [["--header-timeout", "0"], ["--keep-alive-timeout", "0"], ["--max-connections", "0"]],
)
def test_values_that_would_disable_the_guard_are_refused(args: list[str]) -> None:
    with pytest.raises(click.BadParameter):
        _settings("dev", args)
