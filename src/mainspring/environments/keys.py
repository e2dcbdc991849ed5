"""Which signing key an environment's apps hold: its own (`--env-signing-key NAME=KEY`), the
branch environments' shared one (`*=KEY`), else the server's. The server signs its calls to an
environment's apps with that key and accepts their requests under it only."""

from __future__ import annotations

BRANCHES = "*"


def signing_key_for(
    entries: tuple[str, ...], name: str, kind: str, default: str | None
) -> str | None:
    if kind == "default":  # production holds the server's own key (`--signing-key`)
        return default
    keys = dict(entry.split("=", 1) for entry in entries)
    if name in keys:
        return keys[name]
    if kind == "branch" and BRANCHES in keys:
        return keys[BRANCHES]
    return default
