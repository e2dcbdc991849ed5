"""Limits on hostile input that no other check covers (pure; every refusal names the field).

JSON nesting depth (events and register payloads), the size of an app's register payload
(functions, triggers, id lengths), and the cost of CEL expressions: cel-python evaluates in the
event loop, so an expression must not be able to run for long. Two shapes can: comprehension
macros nested inside each other (`a.all(x, b.exists(y, …))`, quadratic or worse over event data),
and `matches()` with a regex that backtracks catastrophically (Python's `re` is not RE2).
"""

from __future__ import annotations

import re
from typing import Any

from mainspring import errors

MAX_JSON_DEPTH = 64
MAX_FUNCTIONS_PER_APP = 1000
MAX_TRIGGERS_PER_FUNCTION = 10
MAX_ID_LENGTH = 256
_MACROS = re.compile(r"\.\s*(all|exists_one|exists|map|filter)\s*\(")
# a quantified group that itself contains a quantifier: (a+)+, (x*)*, (a|aa)+ …
_NESTED_QUANTIFIER = re.compile(r"\((?:[^()\\]|\\.)*(?:[*+?}]|\|)(?:[^()\\]|\\.)*\)\s*[*+{]")


def json_depth_ok(value: Any, limit: int = MAX_JSON_DEPTH) -> bool:
    """Iterative (a recursive walk is what a deep document attacks); counts containers only."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > limit:
            return False
        if isinstance(node, dict):
            stack.extend(
                (child, depth + 1) for child in node.values() if isinstance(child, (dict, list))
            )
        elif isinstance(node, list):
            stack.extend((child, depth + 1) for child in node if isinstance(child, (dict, list)))
    return True


def check_depth(value: Any, field: str, index: int | None = None) -> None:
    if isinstance(value, (dict, list)) and not json_depth_ok(value):
        raise errors.InvalidInput(
            f"JSON nested deeper than {MAX_JSON_DEPTH} levels", field=field, index=index
        )


def _closing(source: str, start: int) -> int:
    """Index of the parenthesis closing the one opened just before `start` (strings skipped)."""
    depth, quote, i = 1, "", start
    while i < len(source):
        char = source[i]
        if quote:
            if char == "\\":
                i += 1
            elif char == quote:
                quote = ""
        elif char in "\"'":
            quote = char
        elif char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
            if depth == 0:
                return i
        i += 1
    return len(source)


def expression_cost_problem(source: str) -> str | None:
    """Why `source` could run too long, or None."""
    for match in _MACROS.finditer(source):
        inner = source[match.end() : _closing(source, match.end())]
        if _MACROS.search(inner):
            return "comprehension macros (all/exists/map/filter) may not be nested"
    for match in re.finditer(r"matches\s*\(", source):
        argument = source[match.end() : _closing(source, match.end())]
        if _NESTED_QUANTIFIER.search(argument):
            return "matches() pattern has a nested quantifier (catastrophic backtracking)"
    return None


def check_register(body: dict[str, Any]) -> None:
    """Size limits of a register payload, before any function is looked at."""
    check_depth(body, "body")
    functions = body.get("functions")
    if isinstance(functions, list) and len(functions) > MAX_FUNCTIONS_PER_APP:
        raise errors.InvalidFunctionConfig(
            f"at most {MAX_FUNCTIONS_PER_APP} functions per app", field="functions"
        )
    for key, value in body.items():
        if key.lower() == "appname" and isinstance(value, str) and len(value) > MAX_ID_LENGTH:
            raise errors.InvalidFunctionConfig(
                f"app name longer than {MAX_ID_LENGTH} characters", field="appName"
            )
    for index, function in enumerate(functions if isinstance(functions, list) else []):
        if not isinstance(function, dict):
            continue
        for key in ("id", "name"):
            value = function.get(key)
            if isinstance(value, str) and len(value) > MAX_ID_LENGTH:
                raise errors.InvalidFunctionConfig(
                    f"function {key} longer than {MAX_ID_LENGTH} characters",
                    field=f"functions.{index}.{key}",
                )
        triggers = function.get("triggers")
        if isinstance(triggers, list) and len(triggers) > MAX_TRIGGERS_PER_FUNCTION:
            raise errors.InvalidFunctionConfig(
                f"at most {MAX_TRIGGERS_PER_FUNCTION} triggers per function",
                field=f"functions.{index}.triggers",
            )
