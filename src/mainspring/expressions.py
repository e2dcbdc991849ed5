"""CEL expressions (google/cel-spec via cel-python): compile once, cache, evaluate."""

from __future__ import annotations

import functools
from typing import Any

import celpy

from mainspring import errors, limits

_ENV = celpy.Environment()
MAX_EXPRESSION_LENGTH = 4096


@functools.lru_cache(maxsize=4096)
def compile_expression(source: str) -> Any:
    """A runnable program; raises InvalidInput naming the problem."""
    if len(source) > MAX_EXPRESSION_LENGTH:
        raise errors.InvalidInput(f"expression longer than {MAX_EXPRESSION_LENGTH} characters")
    problem = limits.expression_cost_problem(source)
    if problem is not None:
        raise errors.InvalidInput(f"expression too costly: {problem}")
    try:
        return _ENV.program(_ENV.compile(source))
    except Exception as exc:  # celpy raises several parse error types
        raise errors.InvalidInput(f"invalid expression {source!r}: {exc}") from None


def evaluate(source: str, variables: dict[str, Any]) -> Any:
    """Evaluate with JSON-like variables (`event`, `async`); errors evaluate to None."""
    program = compile_expression(source)
    activation = {
        name: celpy.json_to_cel(value)  # type: ignore[attr-defined]
        for name, value in variables.items()
    }
    try:
        return program.evaluate(activation)
    except Exception:  # missing keys and type errors are "no match", as in Inngest
        return None


def evaluate_bool(source: str, variables: dict[str, Any]) -> bool:
    result = evaluate(source, variables)
    return isinstance(result, celpy.celtypes.BoolType) and bool(result)
