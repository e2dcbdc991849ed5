"""`mainspring envs list`: the server's environments (`GET /v1/environments`)."""

from __future__ import annotations

import click

from mainspring.cli import output
from mainspring.cli.remote import Remote, remote


@click.group()
def envs() -> None:
    """The server's environments (production, configured ones, branches)."""


@envs.command("list")
@remote
def list_environments(remote: Remote) -> None:
    """List every environment, archived ones too; CURRENT is the one `--env` names."""
    found = remote.client.data("GET", "/v1/environments")
    if remote.json:
        output.emit_json(found)
        return
    rows = [
        (
            env["current"],
            env["name"],
            env["kind"],
            env["served"],
            env["created_at"],
            env["active_at"],
            env["archived_at"],
        )
        for env in found
    ]
    headers = ("CURRENT", "NAME", "KIND", "SERVED", "CREATED", "ACTIVE", "ARCHIVED")
    output.table(headers, rows)
