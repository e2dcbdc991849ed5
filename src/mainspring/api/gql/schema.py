"""The composition: `schema.graphql` (read once, at import) with each area's resolvers bound,
and the `Time` scalar (RFC 3339 out; RFC 3339 or epoch milliseconds in, as epoch milliseconds).

Every other scalar (`ULID`, `UUID`, `Bytes` as JSON text, `Map`, `Unknown` …) passes its JSON
value through; resolvers check ids themselves, so that an error names the argument at fault.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import graphql

from mainspring.api.gql import apps, environments, events, mutations, runs, trace, workers
from mainspring.domain.durations import parse_instant_ms, rfc3339

SDL_PATH = Path(__file__).with_name("schema.graphql")

RESOLVERS: dict[tuple[str, str], Callable[..., Any]] = {
    # events and the stream
    ("Query", "event"): events.resolve_event,
    ("Query", "events"): events.resolve_events,
    ("Query", "stream"): events.resolve_stream,
    ("Query", "eventV2"): events.resolve_event_v2,
    ("Query", "eventsV2"): events.resolve_events_v2,
    ("StreamItem", "runs"): events.resolve_v1_runs,
    ("Event", "functionRuns"): events.resolve_v1_runs,
    ("Event", "status"): events.resolve_event_status,
    ("Event", "totalRuns"): events.resolve_total_runs,
    ("Event", "pendingRuns"): events.resolve_pending_runs,
    ("EventV2", "runs"): events.resolve_v2_runs,
    ("EventsConnection", "totalCount"): events.resolve_events_total,
    # runs
    ("Query", "run"): runs.resolve_run,
    ("Query", "functionRun"): runs.resolve_function_run,
    ("Query", "runs"): runs.resolve_runs,
    ("Query", "runTrigger"): runs.resolve_trigger,
    ("RunsV2Connection", "totalCount"): runs.resolve_runs_total,
    ("FunctionRun", "functionID"): runs.resolve_function_id,
    ("FunctionRun", "function"): runs.resolve_function,
    ("FunctionRun", "event"): runs.resolve_event,
    ("FunctionRun", "events"): runs.resolve_events,
    ("FunctionRun", "cron"): runs.resolve_cron,
    ("FunctionRunV2", "appID"): runs.resolve_app_id,
    ("FunctionRunV2", "app"): runs.resolve_app,
    ("FunctionRunV2", "functionID"): runs.resolve_function_id,
    ("FunctionRunV2", "function"): runs.resolve_function,
    ("FunctionRunV2", "eventName"): runs.resolve_event_name,
    ("FunctionRunV2", "cronSchedule"): runs.resolve_cron,
    # traces
    ("Query", "runTrace"): trace.resolve_run_trace,
    ("Query", "runTraceSpanOutputByID"): trace.resolve_span_output,
    ("FunctionRun", "trace"): trace.resolve_trace,
    ("FunctionRunV2", "trace"): trace.resolve_trace,
    # apps and functions
    ("Query", "apps"): apps.resolve_apps,
    ("Query", "app"): apps.resolve_app,
    ("Query", "functions"): apps.resolve_functions,
    ("Query", "functionBySlug"): apps.resolve_function_by_slug,
    ("App", "functions"): apps.resolve_app_functions,
    ("App", "functionCount"): apps.resolve_function_count,
    ("Function", "app"): apps.resolve_function_app,
    ("Function", "failureHandler"): apps.resolve_failure_handler,
    # Connect workers
    ("Query", "workerConnections"): workers.resolve_worker_connections,
    ("Query", "workerConnection"): workers.resolve_worker_connection,
    ("ConnectV1WorkerConnection", "app"): workers.resolve_worker_app,
    # environments
    ("Query", "envs"): environments.resolve_envs,
    ("Query", "defaultEnv"): environments.resolve_default_env,
    ("Query", "envBySlug"): environments.resolve_env_by_slug,
    # mutations
    ("Mutation", "cancelRun"): mutations.resolve_cancel_run,
    ("Mutation", "rerun"): mutations.resolve_rerun,
    ("Mutation", "invokeFunction"): mutations.resolve_invoke,
    ("Mutation", "createApp"): mutations.resolve_create_app,
    ("Mutation", "deleteApp"): mutations.resolve_delete_app,
    ("Mutation", "deleteAppByName"): mutations.resolve_delete_app_by_name,
}


def _time_out(value: Any) -> str:
    return value if isinstance(value, str) else str(rfc3339(int(value)))


def _time_in(value: Any) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        return value  # epoch milliseconds
    if isinstance(value, str):
        try:
            return parse_instant_ms(value)
        except ValueError:
            pass
    raise graphql.GraphQLError(f"Time must be an RFC 3339 instant, not {str(value)[:100]!r}")


def _time_literal(node: graphql.ValueNode, *_: Any) -> int:
    if isinstance(node, graphql.StringValueNode):
        return _time_in(node.value)
    if isinstance(node, graphql.IntValueNode):
        return _time_in(int(node.value))
    raise graphql.GraphQLError("Time must be an RFC 3339 instant (a string)")


def _bind_time(schema: graphql.GraphQLSchema) -> None:
    time = schema.get_type("Time")
    assert isinstance(time, graphql.GraphQLScalarType)
    time.coerce_output_value = _time_out
    time.coerce_input_value = _time_in
    time.coerce_input_literal = _time_literal


def build() -> graphql.GraphQLSchema:
    schema = graphql.build_schema(SDL_PATH.read_text(encoding="utf-8"))
    for (type_name, field_name), resolver in RESOLVERS.items():
        owner = schema.get_type(type_name)
        assert isinstance(owner, graphql.GraphQLObjectType), type_name
        owner.fields[field_name].resolve = resolver
    step_info = schema.get_type("StepInfo")
    assert isinstance(step_info, graphql.GraphQLUnionType)
    step_info.resolve_type = trace.resolve_step_info_type
    _bind_time(schema)
    return schema


SCHEMA = build()
