"""`mainspring send` and `mainspring invoke`: start work on a running server."""

from __future__ import annotations

import time
from typing import Any

import click

from mainspring.cli import output
from mainspring.cli.client import Client, segment
from mainspring.cli.remote import Remote, json_object, remote

RUN_LOOKUP_S = 5.0  # how long `invoke` looks for the run its event started
RUN_LOOKUP_POLL_S = 0.1


@click.command()
@click.argument("name")
@click.option("--data", help="The event's data, a JSON object (default: stdin if piped, or {}).")
@click.option("--id", "event_id", help="Event id: a resend with the same id is a no-op (24 h).")
@click.option(
    "--event-key",
    envvar=["MAINSPRING_EVENT_KEY", "INNGEST_EVENT_KEY"],
    default="dev",
    show_default=True,
    help="Event key (env MAINSPRING_EVENT_KEY, INNGEST_EVENT_KEY); any in dev mode.",
)
@remote
def send(remote: Remote, name: str, data: str | None, event_id: str | None, event_key: str) -> None:
    """Send the event NAME."""
    event: dict[str, Any] = {"name": name, "data": json_object(data, "--data")}
    if event_id:
        event["id"] = event_id
    answer = remote.client.call("POST", f"/e/{event_key}", body=event)
    if remote.json:
        output.emit_json(answer)
        return
    click.echo(f"sent {name}: event {', '.join(answer['ids'])}")


@click.command()
@click.argument("function")
@click.option("--data", help="The invocation's data, a JSON object (default: stdin or {}).")
@remote
def invoke(remote: Remote, function: str, data: str | None) -> None:
    """Start FUNCTION now with --data, whatever its triggers (a cron function runs now)."""
    body = {"data": json_object(data, "--data")}
    answer = remote.client.call("POST", f"/invoke/{segment(function)}", body=body)
    event_id = str(answer["id"])
    run_id = _run_of(remote.client, event_id)
    if remote.json:
        output.emit_json({"event_id": event_id, "run_id": run_id})
        return
    started = f"run {run_id}" if run_id else "its run is not listed yet"
    click.echo(f"invoked {function}: event {event_id}, {started}")


def _run_of(client: Client, event_id: str) -> str | None:
    deadline = time.monotonic() + RUN_LOOKUP_S
    while True:
        runs = client.data("GET", f"/v1/events/{event_id}/runs")
        if runs:
            return str(runs[0]["run_id"])
        if time.monotonic() >= deadline:
            return None
        time.sleep(RUN_LOOKUP_POLL_S)
