"""`mainspring kill-switch on|off|status`: stop every function's new SDK calls at once, in the
environment `--env` names (the server's default one without it) or, with `--all-envs`, in every
environment of the server at once (the global switch)."""

from __future__ import annotations

from typing import Any

import click

from mainspring.cli import output
from mainspring.cli.client import USAGE, ApiError
from mainspring.cli.remote import Remote, remote

PATH = "/v1/kill-switch"
ALL_ENVS = click.option(
    "--all-envs",
    is_flag=True,
    help="Every environment of the server at once (the global switch).",
)


@click.group("kill-switch")
def kill_switch() -> None:
    """While on, no function makes new SDK calls; events are held until it is off."""


@kill_switch.command()
@click.option("--reason", help="Shown on the dashboard and in `status`.")
@click.option("--by", "requested_by", help="Who turned it on.")
@ALL_ENVS
@remote
def on(remote: Remote, reason: str | None, requested_by: str | None, all_envs: bool) -> None:
    """Turn the kill switch on."""
    body: dict[str, Any] = {"reason": reason, "requested_by": requested_by}
    if all_envs:
        body["all_environments"] = True
    _show(remote, remote.client.data("POST", PATH, body=body))


@kill_switch.command()
@click.option("--skip-held-events", is_flag=True, help="End the held runs instead of running them.")
@ALL_ENVS
@remote
def off(remote: Remote, skip_held_events: bool, all_envs: bool) -> None:
    """Turn the kill switch off; held runs go on."""
    body: dict[str, Any] = {"skip_held_events": skip_held_events}
    if all_envs:
        body["all_environments"] = True
    _show(remote, remote.client.data("DELETE", PATH, body=body))


@kill_switch.command()
@ALL_ENVS
@remote
def status(remote: Remote, all_envs: bool) -> None:
    """Show whether the kill switch is on (with --all-envs: the global one)."""
    state = remote.client.data("GET", PATH)
    if not all_envs:
        _show(remote, state)
        return
    if "all_environments" not in state:
        raise ApiError(f"{remote.client.url} has environments off: it has one switch", USAGE)
    if remote.json:
        output.emit_json(state["all_environments"])
        return
    _line("kill switch (all environments)", state["all_environments"])


def _show(remote: Remote, state: dict[str, Any]) -> None:
    if remote.json:
        output.emit_json(state)
    elif "environments" in state:  # `--all-envs` on/off: each environment's switch
        for name, each in state["environments"].items():
            _line(f"kill switch ({name})", each)
    else:
        _line("kill switch", state)


def _line(label: str, state: dict[str, Any]) -> None:
    if not state.get("active"):
        click.echo(f"{label}: off")
        return
    details = [f"since {state['since']}"] if state.get("since") else []
    if state.get("reason"):
        details.append(f"reason: {state['reason']}")
    if state.get("requested_by"):
        details.append(f"by {state['requested_by']}")
    click.echo(f"{label}: ON ({'; '.join(details)})" if details else f"{label}: ON")
