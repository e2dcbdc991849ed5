"""Priority: `priority.run` (CEL, integer seconds) moves a run's first call earlier or later."""

from __future__ import annotations

from typing import Any

from mainspring import expressions

MAX_PRIORITY_S = 43_200  # the Go server's clamp


def offset_ms(expression: str | None, event: dict[str, Any]) -> int:
    """Milliseconds to move the run *ahead* (positive) or behind (negative); 0 when the
    expression does not give a number."""
    if not expression:
        return 0
    value = expressions.evaluate(expression, {"event": event})
    if value is None or isinstance(value, bool):
        return 0
    try:
        seconds = int(value)
    except (TypeError, ValueError):
        return 0
    return max(-MAX_PRIORITY_S, min(MAX_PRIORITY_S, seconds)) * 1000
