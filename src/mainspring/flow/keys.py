"""Partition keys: a key expression evaluated against the trigger event, made a bounded string."""

from __future__ import annotations

import hashlib
from typing import Any

from mainspring import expressions


def key_value(expression: str | None, event: dict[str, Any]) -> str:
    """The expression's value as text; '' when there is no expression or it cannot be evaluated
    (Inngest also puts such events together under one key)."""
    if not expression:
        return ""
    value = expressions.evaluate(expression, {"event": event})
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def digest(text: str) -> str:
    """Short stable digest, so that keys of any length index cheaply."""
    return hashlib.sha1(text.encode()).hexdigest()[:20]


def scoped(prefix: str, expression: str | None, event: dict[str, Any]) -> str:
    """`prefix` alone without an expression, else `prefix:<digest of the value>`."""
    if not expression:
        return prefix
    return f"{prefix}:{digest(key_value(expression, event))}"
