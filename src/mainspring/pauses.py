"""Events that wake runs: which incoming event a pause waits for, and how it is indexed.

Where a pause's expression is an equality between the incoming event (`async`) and a value known
when the pause is created (a literal, or a field of the run's trigger `event`), the pause is
stored under that value, so an incoming event finds it by one index look-up instead of every
waiting expression being evaluated.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import orjson

from mainspring import expressions

_PATH = r"((?:\.[A-Za-z_][A-Za-z0-9_]*)+)"
_PATHS = re.compile(rf"^\s*(event|async){_PATH}\s*==\s*(event|async){_PATH}\s*$")
_LITERAL = r"(\"[^\"\\]*\"|'[^'\\]*'|-?\d+|true|false)"
_ASYNC_EQ_LITERAL = re.compile(rf"^\s*async{_PATH}\s*==\s*{_LITERAL}\s*$")
_LITERAL_EQ_ASYNC = re.compile(rf"^\s*{_LITERAL}\s*==\s*async{_PATH}\s*$")


@dataclass(frozen=True, slots=True)
class Key:
    """The pause matches an event whose `field` (dotted path) holds the value encoded in `value`."""

    field: str
    value: str


def lookup(document: Any, path: str) -> Any:
    """The value at a dotted path (`data.user.id`), or None when absent."""
    current = document
    for part in path.split("."):
        if not isinstance(current, dict) or part not in current:
            return None
        current = current[part]
    return current


def encode(value: Any) -> str | None:
    """Index key of a scalar; None for values CEL equality would not treat plainly."""
    if isinstance(value, bool | int | str) and not (isinstance(value, int) and abs(value) > 2**53):
        return orjson.dumps(value).decode()
    return None


def _literal(text: str) -> Any:
    if text[0] == "'":
        return text[1:-1]
    return orjson.loads(text)


def index_key(expression: str | None, trigger_event: dict[str, Any]) -> Key | None:
    """The equality key of an expression, if it has the indexable shape."""
    if not expression:
        return None
    match = _PATHS.match(expression)
    if match:
        left, left_path, right, right_path = match.groups()
        if {left, right} != {"event", "async"}:
            return None
        event_path, async_path = (
            (left_path, right_path) if left == "event" else (right_path, left_path)
        )
        value = encode(lookup(trigger_event, event_path[1:]))
        return None if value is None else Key(async_path[1:], value)
    for pattern, path_group, literal_group in (
        (_ASYNC_EQ_LITERAL, 1, 2),
        (_LITERAL_EQ_ASYNC, 2, 1),
    ):
        match = pattern.match(expression)
        if match:
            value = encode(_literal(match.group(literal_group)))
            return None if value is None else Key(match.group(path_group)[1:], value)
    return None


def matches(
    expression: str | None, trigger_event: dict[str, Any], incoming: dict[str, Any]
) -> bool:
    """An unindexed pause: no expression matches every event of the name."""
    if not expression:
        return True
    return expressions.evaluate_bool(expression, {"event": trigger_event, "async": incoming})
