"""`mainspring runs …`: list, show, cancel, rerun and replay runs on a running server."""

from __future__ import annotations

import sys
import uuid
from collections.abc import Iterator
from typing import Any

import click

from mainspring.cli import output, timeline
from mainspring.cli.client import Client, segment
from mainspring.cli.remote import Remote, instant, remote

PAGE = 200  # runs per request while listing (the API caps a page at 1000)
REPLAY_CHUNK = 100  # runs per replay request: progress, and a bounded transaction each


@click.group()
def runs() -> None:
    """List, show, cancel, rerun and replay runs."""


def _filters(
    status: tuple[str, ...],
    function: str | None,
    since: str | None,
    until: str | None,
    query: str | None,
) -> dict[str, Any]:
    return {
        "status": ",".join(status) or None,
        "function_id": function,
        "started_after": instant(since, "--since"),
        "started_before": instant(until, "--until"),
        "query": query,
    }


def _pages(client: Client, filters: dict[str, Any], limit: int | None) -> Iterator[dict[str, Any]]:
    """Runs matching `filters`, newest first, following cursors; at most `limit` (None: all)."""
    cursor, seen = None, 0
    while True:
        size = PAGE if limit is None else min(PAGE, limit - seen)
        page = client.call("GET", "/v1/runs", params={**filters, "cursor": cursor, "limit": size})
        for run in page["data"]:
            yield run
            seen += 1
            if limit is not None and seen >= limit:
                return
        cursor = page["metadata"].get("cursor")
        if not cursor:
            return


def filter_options(command: Any) -> Any:
    for decorator in reversed(
        [
            click.option(
                "--status",
                multiple=True,
                help="Running, Completed, Failed, Cancelled, Skipped (repeatable).",
            ),
            click.option("--function", help="Function slug `<app>-<fn>`."),
            click.option("--since", help="Started after: a duration back (1h, 2d) or a time."),
            click.option("--until", help="Started before: a duration back or a time."),
            click.option("--query", help='CEL over the trigger event: event.data.user == "u1".'),
        ]
    ):
        command = decorator(command)
    return command


@runs.command("list")
@filter_options
@click.option("--limit", type=click.IntRange(min=1), default=50, show_default=True)
@remote
def list_runs(
    remote: Remote,
    status: tuple[str, ...],
    function: str | None,
    since: str | None,
    until: str | None,
    query: str | None,
    limit: int,
) -> None:
    """List runs, newest first."""
    found = list(_pages(remote.client, _filters(status, function, since, until, query), limit))
    if remote.json:
        output.emit_json(found)
        return
    rows = [
        (
            run["run_id"],
            run["function_id"],
            run["status"],
            run.get("event_name"),
            run["created_at"],
            output.duration(run.get("duration_ms")),
        )
        for run in found
    ]
    output.table(("RUN", "FUNCTION", "STATUS", "EVENT", "CREATED", "DURATION"), rows)


@runs.command()
@click.argument("run_id")
@remote
def show(remote: Remote, run_id: str) -> None:
    """Show a run: its state, steps and timeline."""
    trace = remote.client.data("GET", f"/v2/runs/{segment(run_id)}/trace")
    if remote.json:
        output.emit_json(trace)
        return
    timeline.render(trace)


@runs.command()
@click.argument("run_ids", nargs=-1, required=True)
@remote
def cancel(remote: Remote, run_ids: tuple[str, ...]) -> None:
    """Cancel runs (a run that already ended keeps its status)."""
    answers = [
        remote.client.data("POST", f"/v2/runs/{segment(run_id)}/cancel") for run_id in run_ids
    ]
    if remote.json:
        output.emit_json(answers)
        return
    for answer in answers:
        click.echo(f"{answer['run_id']}: {answer['status']}")


@runs.command()
@click.argument("run_id")
@click.option("--from-step", help="Step id to rerun from (earlier steps keep their output).")
@remote
def rerun(remote: Remote, run_id: str, from_step: str | None) -> None:
    """Run a run's function again with the same trigger, as a new run."""
    body = {"fromStep": {"stepId": from_step}} if from_step else None
    answer = remote.client.data("POST", f"/v1/runs/{segment(run_id)}/rerun", body=body)
    if remote.json:
        output.emit_json(answer)
        return
    click.echo(f"rerun of {run_id}: run {answer['run_id']}")


@runs.command()
@filter_options
@click.option("--dry-run", is_flag=True, help="Count the runs, start nothing.")
@remote
def replay(
    remote: Remote,
    status: tuple[str, ...],
    function: str | None,
    since: str | None,
    until: str | None,
    query: str | None,
    dry_run: bool,
) -> None:
    """Rerun every run that matches (e.g. --status Failed --since 1d), in chunks, with progress."""
    if not (status or function or since or query):
        raise click.UsageError("say which runs: --status, --function, --since or --query")
    filters = _filters(status, function, since, until, query)
    selected = [run["run_id"] for run in _pages(remote.client, filters, None)]
    if dry_run:
        _replayed(remote, selected, [], dry_run=True)
        return
    started: list[str] = []
    batch_key = uuid.uuid4().hex  # one key per chunk: a resent chunk starts nothing twice
    chunks = [selected[i : i + REPLAY_CHUNK] for i in range(0, len(selected), REPLAY_CHUNK)]
    with click.progressbar(length=len(selected), label="replaying", file=sys.stderr) as progress:
        for index, chunk in enumerate(chunks):
            answer = remote.client.data(
                "POST",
                "/v1/replays",
                body={"run_ids": chunk},
                headers={"Idempotency-Key": f"cli-{batch_key}-{index}"},
            )
            started += answer["run_ids"]
            progress.update(len(chunk))
    _replayed(remote, selected, started, dry_run=False)


def _replayed(remote: Remote, selected: list[str], started: list[str], *, dry_run: bool) -> None:
    if remote.json:
        output.emit_json({"matched": selected, "run_ids": started, "dry_run": dry_run})
    elif dry_run:
        click.echo(f"{len(selected)} runs match; nothing started (--dry-run)")
    else:
        click.echo(f"replayed {len(selected)} runs: {len(started)} new runs")
