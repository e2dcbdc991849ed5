"""Connections over a list held in memory (workers, environments): offset cursors, each edge's
cursor the count of nodes up to it, pages of at most `MAX_PAGE`."""

from __future__ import annotations

from typing import Any

from mainspring.api.gql.context import bad_input

MAX_PAGE = 400


def page(nodes: list[dict[str, Any]], first: int, after: str | None) -> dict[str, Any]:
    """`{edges, pageInfo}` of `first` nodes after the cursor `after` (bad ones name the
    argument)."""
    if first < 0:
        raise bad_input("first", "must not be negative")
    start = _offset(after)
    shown = nodes[start : start + min(first, MAX_PAGE)]
    edges = [{"node": node, "cursor": str(start + i + 1)} for i, node in enumerate(shown)]
    return {
        "edges": edges,
        "pageInfo": {
            "hasNextPage": start + len(shown) < len(nodes),
            "hasPreviousPage": start > 0,
            "startCursor": edges[0]["cursor"] if edges else None,
            "endCursor": edges[-1]["cursor"] if edges else None,
        },
    }


def _offset(after: str | None) -> int:
    if after is None or after == "":
        return 0
    if not after.isdigit():
        raise bad_input("after", f"{after[:100]!r} is not a cursor of this list")
    return int(after)
