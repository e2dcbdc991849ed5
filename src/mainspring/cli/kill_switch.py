"""`mainspring kill-switch on|off|status`: stop every function's new SDK calls at once."""

from __future__ import annotations

from typing import Any

import click

from mainspring.cli import output
from mainspring.cli.remote import Remote, remote

PATH = "/v1/kill-switch"


@click.group("kill-switch")
def kill_switch() -> None:
    """While on, no function makes new SDK calls; events are held until it is off."""


@kill_switch.command()
@click.option("--reason", help="Shown on the dashboard and in `status`.")
@click.option("--by", "requested_by", help="Who turned it on.")
@remote
def on(remote: Remote, reason: str | None, requested_by: str | None) -> None:
    """Turn the kill switch on."""
    body = {"reason": reason, "requested_by": requested_by}
    _show(remote, remote.client.data("POST", PATH, body=body))


@kill_switch.command()
@click.option("--skip-held-events", is_flag=True, help="End the held runs instead of running them.")
@remote
def off(remote: Remote, skip_held_events: bool) -> None:
    """Turn the kill switch off; held runs go on."""
    _show(remote, remote.client.data("DELETE", PATH, body={"skip_held_events": skip_held_events}))


@kill_switch.command()
@remote
def status(remote: Remote) -> None:
    """Show whether the kill switch is on."""
    _show(remote, remote.client.data("GET", PATH))


def _show(remote: Remote, state: dict[str, Any]) -> None:
    if remote.json:
        output.emit_json(state)
        return
    if not state.get("active"):
        click.echo("kill switch: off")
        return
    details = [f"since {state.get('since')}"]
    if state.get("reason"):
        details.append(f"reason: {state['reason']}")
    if state.get("requested_by"):
        details.append(f"by {state['requested_by']}")
    click.echo(f"kill switch: ON ({'; '.join(details)})")
