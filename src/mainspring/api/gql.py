"""`POST /v0/gql`: the GraphQL subset of Inngest's dev server (protocol §9).

Enough for the dashboard-style questions the official SDKs' test helpers ask: which runs an
event started, a run's status/output/trigger, and one span per memoized step whose output can
be fetched by id. Also `POST /v0/connect/start` (200 `{}`), the dev server's readiness probe.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import graphql
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from mainspring import codec
from mainspring.api.errors import JSONResponse
from mainspring.api.state import services
from mainspring.reads.service import Reads
from mainspring.reads.trace import spans
from mainspring.registry import Registry

SDL = """
type Query {
  event(query: EventQuery!): Event
  events(query: EventsQuery!): [Event!]!
  stream(query: StreamQuery!): [StreamItem!]!
  run(runID: String!): FunctionRun
  runTrigger(runID: String!): RunTraceTrigger!
  runTraceSpanOutputByID(outputID: String!): RunTraceSpanOutput!
}
input EventQuery { eventId: ID!  workspaceId: ID }
input EventsQuery { lastEventId: ID  workspaceId: ID }
input StreamQuery { limit: Int  includeInternalEvents: Boolean  after: ID  before: ID }
enum StreamType { EVENT CRON }
type StreamItem {
  id: ID!
  trigger: String!
  type: StreamType!
  createdAt: String
  runs: [FunctionRun]
  inBatch: Boolean!
}
type Function { id: ID!  slug: String!  name: String! }
enum FunctionRunStatus { QUEUED RUNNING COMPLETED FAILED CANCELLED SKIPPED UNKNOWN }
type Event {
  id: ID!
  name: String
  payload: String
  receivedAt: String
  functionRuns: [FunctionRun!]
}
type FunctionRun {
  id: ID!
  functionID: String!
  function: Function
  eventID: ID
  status: FunctionRunStatus
  output: String
  startedAt: String
  endedAt: String
  trace: RunTraceSpan
}
type RunTraceSpan {
  spanID: String!
  name: String!
  isRoot: Boolean!
  status: FunctionRunStatus!
  stepID: String
  stepOp: String
  attempts: Int
  endedAt: String
  outputID: String
  childrenSpans: [RunTraceSpan!]!
}
type RunTraceTrigger { eventName: String  payloads: [String!]!  isBatch: Boolean! }
type RunTraceSpanOutput { data: String  error: StepError }
type StepError { message: String!  name: String  stack: String }
"""

STATUSES = {s: s.upper() for s in ("Running", "Completed", "Failed", "Cancelled", "Skipped")}
STATUSES["Scheduled"] = "QUEUED"
STREAM_LIMIT = 1000


@dataclass(frozen=True)
class Context:
    reads: Reads
    registry: Registry


Info = graphql.GraphQLResolveInfo[Context]


def _output_id(run_id: str, step_id: str | None = None) -> str:
    """A span output id: `<run id>` for the run itself, `<run id>:<step id>` for a step."""
    return run_id if step_id is None else f"{run_id}:{step_id}"


def _payload(event: dict[str, Any]) -> dict[str, Any]:
    """The event as the SDK sent it (what Inngest's UI shows as the trigger payload)."""
    return {k: event[k] for k in ("name", "data", "user", "id", "ts", "v")}


def _run_node(run: dict[str, Any]) -> dict[str, Any]:
    status = str(run["status"])
    return {
        "id": run["run_id"],
        "functionID": run["function_id"],
        "eventID": run["event_id"],
        "status": STATUSES.get(status, "UNKNOWN"),
        "output": None if status == "Running" else codec.dumps(run["output"]),
        "startedAt": run["run_started_at"],
        "endedAt": run["ended_at"],
        "run": run,
    }


async def _need_run(info: Info, run_id: str) -> dict[str, Any]:
    run = await info.context.reads.run(run_id)
    if run is None:
        raise graphql.GraphQLError(f"run not found: {run_id}")
    return run


async def resolve_event(_: None, info: Info, query: dict[str, Any]) -> Any:
    event = await info.context.reads.event(str(query["eventId"]))
    if event is None:
        raise graphql.GraphQLError(f"event not found: {query['eventId']}")
    return {
        "id": event["internal_id"],
        "name": event["name"],
        "payload": codec.dumps(_payload(event)),
        "receivedAt": event["received_at"],
    }


async def resolve_events(_: None, info: Info, query: dict[str, Any]) -> Any:
    """Recent events, newest first. `payload` is the event's data here, as the TypeScript SDK's
    test helpers read it (`receivedEventWithName`); `event(query)` keeps the whole event."""
    events = await info.context.reads.events(None, STREAM_LIMIT)
    return [
        {
            "id": event["internal_id"],
            "name": event["name"],
            "payload": codec.dumps(event["data"]),
            "receivedAt": event["received_at"],
        }
        for event in events
    ]


async def resolve_stream(_: None, info: Info, query: dict[str, Any]) -> Any:
    """Recent events with the runs each started (`eventRunWithName` finds a run by them)."""
    limit = max(1, min(int(query.get("limit") or 100), STREAM_LIMIT))
    internal = bool(query.get("includeInternalEvents"))
    events = await info.context.reads.events(None, limit)
    items = []
    for event in events:
        if not internal and str(event["name"]).startswith("inngest/"):
            continue
        items.append(
            {
                "id": event["internal_id"],
                "trigger": event["name"],
                "type": "CRON" if event["name"] == "inngest/scheduled.timer" else "EVENT",
                "createdAt": event["received_at"],
                "inBatch": False,
            }
        )
    return items


async def resolve_item_runs(item: dict[str, Any], info: Info) -> Any:
    runs = await info.context.reads.runs(event_id=item["id"], limit=STREAM_LIMIT)
    return [_run_node(run) for run in runs]


def resolve_run_function(node: dict[str, Any], info: Info) -> Any:
    slug = str(node["functionID"])
    function = info.context.registry.get(slug)
    name = function.name if function is not None else slug
    return {"id": function.id if function is not None else slug, "slug": slug, "name": name}


async def resolve_function_runs(event: dict[str, Any], info: Info) -> Any:
    runs = await info.context.reads.runs(event_id=event["id"], limit=1000)
    return [_run_node(run) for run in runs]


async def resolve_run(_: None, info: Info, runID: str) -> Any:
    return _run_node(await _need_run(info, runID))


async def resolve_trace(node: dict[str, Any], info: Info) -> Any:
    """The root span and one child per memoized step (steps still in progress are left out)."""
    run: dict[str, Any] = node["run"]
    run_id = str(run["run_id"])
    steps = await info.context.reads.steps(run_id)
    history = await info.context.reads.history(run_id)
    children = [_child_span(run_id, span) for span in spans(steps, history)[: len(steps)]]
    return {
        "spanID": run_id,
        "name": run["function_id"],
        "isRoot": True,
        "status": node["status"],
        "endedAt": run["ended_at"],
        "outputID": None if node["output"] is None else _output_id(run_id),
        "childrenSpans": children,
    }


def _child_span(run_id: str, span: dict[str, Any]) -> dict[str, Any]:
    output_id = _output_id(run_id, span["step_id"])
    return {
        "spanID": output_id,
        "name": span["name"] or span["step_id"],
        "isRoot": False,
        "status": STATUSES[span["status"]],
        "stepID": span["step_id"],
        "stepOp": span["op"],
        "attempts": span["attempts"],
        "endedAt": None,
        "outputID": output_id,
        "childrenSpans": [],
    }


async def resolve_trigger(_: None, info: Info, runID: str) -> Any:
    run = await _need_run(info, runID)
    events = []
    for internal_id in run.get("event_ids") or [run["event_id"]]:  # several for a batch
        event = await info.context.reads.event(str(internal_id))
        if event is not None:
            events.append(event)
    return {
        "eventName": events[0]["name"] if events else None,
        "payloads": [codec.dumps(_payload(event)) for event in events],
        "isBatch": len(events) > 1,
    }


def _error(value: Any) -> dict[str, Any]:
    error = value if isinstance(value, dict) else {"message": str(value)}
    return {
        "message": str(error.get("message") or ""),
        "name": error.get("name"),
        "stack": error.get("stack"),
    }


async def resolve_span_output(
    _: None,
    info: Info,
    outputID: str,
) -> Any:
    run_id, _sep, step_id = outputID.partition(":")
    run = await _need_run(info, run_id)
    if not step_id:
        if run["status"] == "Failed":
            return {"data": None, "error": _error(run["output"])}
        return {"data": codec.dumps(run["output"]), "error": None}
    for step in await info.context.reads.steps(run_id):
        if step["id"] == step_id:
            if step["error"] is not None:
                return {"data": None, "error": _error(step["error"])}
            return {"data": codec.dumps(step["output"]), "error": None}
    raise graphql.GraphQLError(f"span output not found: {outputID}")


def build() -> graphql.GraphQLSchema:
    schema = graphql.build_schema(SDL)
    resolvers: dict[tuple[str, str], Callable[..., Any]] = {
        ("Query", "event"): resolve_event,
        ("Query", "events"): resolve_events,
        ("Query", "stream"): resolve_stream,
        ("StreamItem", "runs"): resolve_item_runs,
        ("FunctionRun", "function"): resolve_run_function,
        ("Query", "run"): resolve_run,
        ("Query", "runTrigger"): resolve_trigger,
        ("Query", "runTraceSpanOutputByID"): resolve_span_output,
        ("Event", "functionRuns"): resolve_function_runs,
        ("FunctionRun", "trace"): resolve_trace,
    }
    for (type_name, field_name), resolver in resolvers.items():
        owner = schema.get_type(type_name)
        assert isinstance(owner, graphql.GraphQLObjectType)
        owner.fields[field_name].resolve = resolver
    return schema


SCHEMA = build()


def _bad_request(message: str) -> JSONResponse:
    return JSONResponse({"data": None, "errors": [{"message": message}]}, status_code=400)


async def gql(request: Request) -> Response:
    try:
        body = codec.loads(await request.body())
    except ValueError:
        return _bad_request("request body is not JSON")
    if not isinstance(body, dict) or not isinstance(body.get("query"), str):
        return _bad_request("body must be an object with a string `query`")
    variables = body.get("variables")
    operation = body.get("operationName")
    app = services(request)
    result = await graphql.graphql(
        SCHEMA,
        body["query"],
        context_value=Context(app.reads, app.registry),
        variable_values=variables if isinstance(variables, dict) else None,
        operation_name=operation if isinstance(operation, str) else None,
    )
    return JSONResponse(result.formatted)


async def connect_start(request: Request) -> Response:
    return JSONResponse({})


routes = [
    Route("/v0/gql", gql, methods=["POST"]),
    Route("/v0/connect/start", connect_start, methods=["POST"]),
]
