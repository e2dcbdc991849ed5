"""How the client commands print: aligned tables and short lines for people, JSON for scripts."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import click
import orjson

EMPTY = "-"


def emit_json(value: Any) -> None:
    click.echo(orjson.dumps(value, option=orjson.OPT_INDENT_2).decode())


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    """Columns padded to their widest cell; the last column runs free."""
    cells = [[_text(cell) for cell in row] for row in rows]
    widths = [max([len(h)] + [len(row[i]) for row in cells]) for i, h in enumerate(headers)]

    def line(values: Sequence[str]) -> str:
        padded = [value.ljust(widths[i]) for i, value in enumerate(values[:-1])]
        return "  ".join([*padded, values[-1]]).rstrip()

    click.echo(line(list(headers)))
    for row in cells:
        click.echo(line(row))


def _text(cell: Any) -> str:
    if cell is None or cell == "":
        return EMPTY
    if isinstance(cell, bool):
        return "yes" if cell else "no"
    if isinstance(cell, dict | list):
        return orjson.dumps(cell).decode()
    return str(cell)


def duration(ms: int | None) -> str:
    if ms is None:
        return EMPTY
    if ms < 1000:
        return f"{ms}ms"
    if ms < 120_000:
        return f"{ms / 1000:.1f}s"
    return f"{ms / 60_000:.1f}m"


def compact(value: Any, width: int = 100) -> str:
    """One line of JSON, cut at `width` characters."""
    text = orjson.dumps(value).decode()
    return text if len(text) <= width else text[: width - 1] + "…"
