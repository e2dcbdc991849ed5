"""`runs show` for people: the run, its steps, and its history as a timeline."""

from __future__ import annotations

from typing import Any

import click

from mainspring.cli import output

STATUS_COLOURS = {"Completed": "green", "Failed": "red", "Cancelled": "yellow", "Running": "cyan"}


def render(trace: dict[str, Any]) -> None:
    run = trace["run"]
    status = click.style(run["status"], fg=STATUS_COLOURS.get(run["status"]), bold=True)
    click.echo(f"run {run['run_id']}  {run['function_id']}  {status}")
    events = trace.get("trigger", {}).get("events") or []
    if events:
        first = events[0]
        click.echo(f"  event    {first.get('name')}  {output.compact(first.get('data'), 80)}")
    click.echo(f"  created  {run.get('created_at') or output.EMPTY}")
    click.echo(f"  ended    {run.get('ended_at') or output.EMPTY}")
    if run.get("output") is not None:
        click.echo(f"  output   {output.compact(run['output'])}")
    spans = trace.get("spans") or []
    if spans:
        click.echo("")
        rows = [
            (
                span.get("name") or span["step_id"],
                span["status"],
                span["attempts"],
                output.duration(span.get("duration_ms")),
                _step_result(span),
            )
            for span in spans
        ]
        output.table(("STEP", "STATUS", "ATTEMPTS", "DURATION", "RESULT"), rows)
    history = trace.get("history") or []
    if history:
        click.echo("")
        _timeline(history)


def _step_result(span: dict[str, Any]) -> str:
    if span.get("error") is not None:
        return output.compact(span["error"], 60)
    return output.compact(span.get("output"), 60)


def _timeline(history: list[dict[str, Any]]) -> None:
    start = history[0]["at"]
    for entry in history:
        offset = f"+{(entry['at'] - start) / 1000:.3f}s"
        what = entry["kind"]
        if entry.get("step_name"):
            what += f"  {entry['step_name']}"
        if entry.get("attempt"):
            what += f" (attempt {entry['attempt'] + 1})"
        click.echo(f"  {offset:>10}  {what}")
