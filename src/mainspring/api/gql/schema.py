"""The composition: `schema.graphql` (read once, at import) with each area's resolvers bound."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import graphql

from mainspring.api.gql import events, runs, trace

SDL_PATH = Path(__file__).with_name("schema.graphql")

RESOLVERS: dict[tuple[str, str], Callable[..., Any]] = {
    ("Query", "event"): events.resolve_event,
    ("Query", "events"): events.resolve_events,
    ("Query", "stream"): events.resolve_stream,
    ("StreamItem", "runs"): events.resolve_item_runs,
    ("Event", "functionRuns"): events.resolve_function_runs,
    ("Query", "run"): runs.resolve_run,
    ("Query", "runTrigger"): runs.resolve_trigger,
    ("FunctionRun", "function"): runs.resolve_run_function,
    ("FunctionRun", "trace"): trace.resolve_trace,
    ("Query", "runTraceSpanOutputByID"): trace.resolve_span_output,
}


def build() -> graphql.GraphQLSchema:
    schema = graphql.build_schema(SDL_PATH.read_text(encoding="utf-8"))
    for (type_name, field_name), resolver in RESOLVERS.items():
        owner = schema.get_type(type_name)
        assert isinstance(owner, graphql.GraphQLObjectType)
        owner.fields[field_name].resolve = resolver
    return schema


SCHEMA = build()
