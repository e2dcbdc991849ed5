"""`mainspring functions …`: list, pause, resume, and live flow-control overrides."""

from __future__ import annotations

from typing import Any

import click

from mainspring.cli import output
from mainspring.cli.client import segment
from mainspring.cli.remote import Remote, remote

OVERRIDE_FIELDS = ("concurrency", "throttle", "rateLimit", "priority")


@click.group()
def functions() -> None:
    """List functions, pause and resume them, override their flow control live."""


@functions.command("list")
@remote
def list_functions(remote: Remote) -> None:
    """List the synced functions."""
    found = remote.client.data("GET", "/v1/functions")
    if remote.json:
        output.emit_json(found)
        return
    rows = [
        (
            fn["function_id"],
            _triggers(fn["triggers"]),
            fn["paused"],
            fn["flow"]["overrides"] or None,
        )
        for fn in found
    ]
    output.table(("FUNCTION", "TRIGGERS", "PAUSED", "OVERRIDES"), rows)


def _triggers(triggers: list[dict[str, Any]]) -> str:
    return ", ".join(t["event"] or f"cron {t['cron']}" for t in triggers)


@functions.command()
@click.argument("function")
@click.option("--reason", help="Shown on the dashboard.")
@click.option("--by", "requested_by", help="Who paused it.")
@remote
def pause(remote: Remote, function: str, reason: str | None, requested_by: str | None) -> None:
    """Pause FUNCTION: no new runs start, started runs stop at their next step."""
    body = {"reason": reason, "requested_by": requested_by}
    state = remote.client.data("POST", f"/v1/functions/{segment(function)}/pause", body=body)
    if remote.json:
        output.emit_json(state)
        return
    click.echo(f"{function}: paused since {state['since']}")


@functions.command()
@click.argument("function")
@click.option("--skip-held-events", is_flag=True, help="End the held runs instead.")
@remote
def resume(remote: Remote, function: str, skip_held_events: bool) -> None:
    """Resume FUNCTION; events received while paused start their runs."""
    body = {"skip_held_events": skip_held_events}
    state = remote.client.data("POST", f"/v1/functions/{segment(function)}/resume", body=body)
    if remote.json:
        output.emit_json(state)
        return
    skipped = len(state["skipped_run_ids"])
    click.echo(f"{function}: resumed ({state['resumed']} held runs go on, {skipped} skipped)")


def _limit_period(text: str, option: str) -> dict[str, Any]:
    """`LIMIT/PERIOD` (and `/BURST` for a throttle): `10/1m`, `5/1s/2`."""
    parts = text.split("/")
    if len(parts) not in (2, 3) or not parts[0].isdigit():
        raise click.BadParameter("LIMIT/PERIOD, e.g. 10/1m", param_hint=option)
    shape: dict[str, Any] = {"limit": int(parts[0]), "period": parts[1]}
    if len(parts) == 3:
        if option != "--throttle" or not parts[2].isdigit():
            raise click.BadParameter("only a throttle takes a /BURST", param_hint=option)
        shape["burst"] = int(parts[2])
    return shape


@functions.command()
@click.argument("function")
@click.option("--concurrency", type=click.IntRange(min=1), help="Calls in flight at once.")
@click.option("--throttle", help="LIMIT/PERIOD[/BURST]: runs started per period, e.g. 10/1m.")
@click.option("--rate-limit", help="LIMIT/PERIOD: runs per period, the rest skipped, e.g. 100/1h.")
@click.option("--priority", help="CEL over the event: seconds to move a run ahead.")
@click.option(
    "--unset",
    multiple=True,
    type=click.Choice(OVERRIDE_FIELDS),
    help="Drop one override (repeatable).",
)
@click.option("--clear", is_flag=True, help="Drop every override: the synced config applies.")
@click.option("--by", "requested_by", help="Who changed it.")
@remote
def override(
    remote: Remote,
    function: str,
    concurrency: int | None,
    throttle: str | None,
    rate_limit: str | None,
    priority: str | None,
    unset: tuple[str, ...],
    clear: bool,
    requested_by: str | None,
) -> None:
    """Show FUNCTION's flow control, or override it live (the next lease obeys the change).

    Options given change those overrides and keep the others."""
    path = f"/v1/functions/{segment(function)}/overrides"
    wanted: dict[str, Any] = {}
    if concurrency is not None:
        wanted["concurrency"] = concurrency
    if throttle is not None:
        wanted["throttle"] = _limit_period(throttle, "--throttle")
    if rate_limit is not None:
        wanted["rateLimit"] = _limit_period(rate_limit, "--rate-limit")
    if priority is not None:
        wanted["priority"] = {"run": priority}
    if clear and (wanted or unset):
        raise click.UsageError("--clear drops every override; give it alone")
    if clear:
        shown = remote.client.data("DELETE", path, body={"requested_by": requested_by})
    elif wanted or unset:
        current = remote.client.data("GET", path)["overrides"]
        merged = {k: v for k, v in {**current, **wanted}.items() if k not in unset}
        body = {**merged, "requested_by": requested_by}
        shown = remote.client.data("PUT", path, body=body)
    else:
        shown = remote.client.data("GET", path)
    if remote.json:
        output.emit_json(shown)
        return
    rows = [
        (field, shown["synced"].get(field), shown["overrides"].get(field))
        for field in OVERRIDE_FIELDS
    ]
    output.table(("SETTING", "SYNCED", "OVERRIDE"), rows)
    if shown["updated_at"] is not None:
        by = f" by {shown['updated_by']}" if shown["updated_by"] else ""
        click.echo(f"overridden at {shown['updated_at']}{by}")
