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
from mainspring.domain.durations import parse_instant_ms, rfc3339
from mainspring.reads import trace_tree
from mainspring.reads.service import Reads
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
  trace(preview: Boolean): RunTraceSpan
}
scalar Unknown
enum RunTraceSpanStatus { FAILED QUEUED RUNNING COMPLETED WAITING CANCELLED SKIPPED }
enum StepOp { INVOKE RUN SLEEP WAIT_FOR_EVENT AI_GATEWAY WAIT_FOR_SIGNAL }
type SpanMetadata { scope: String!  kind: String!  values: Unknown!  updatedAt: String! }
type RunTraceSpan {
  runID: ID!
  traceID: String!
  spanID: String!
  parentSpanID: String
  name: String!
  status: RunTraceSpanStatus!
  attempts: Int
  duration: Int
  outputID: String
  queuedAt: String!
  startedAt: String
  endedAt: String
  childrenSpans: [RunTraceSpan!]!
  stepOp: StepOp
  stepID: String
  stepType: String!
  isRoot: Boolean!
  isUserland: Boolean!
  metadata: [SpanMetadata!]!
}
type RunTraceTrigger { eventName: String  payloads: [String!]!  isBatch: Boolean! }
type RunTraceSpanOutput { data: String  error: StepError }
type StepError { message: String!  name: String  stack: String  cause: Unknown }
"""

STATUSES = {s: s.upper() for s in ("Running", "Completed", "Failed", "Cancelled", "Skipped")}
STATUSES["Scheduled"] = "QUEUED"
STREAM_LIMIT = 1000


@dataclass(frozen=True)
class Context:
    reads: Reads
    registry: Registry


Info = graphql.GraphQLResolveInfo[Context]


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


def _function_name(info: Info, slug: str) -> str:
    function = info.context.registry.get(slug)
    return function.name if function is not None else slug


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


async def resolve_trace(node: dict[str, Any], info: Info, preview: bool | None = None) -> Any:
    """The run's span tree (`reads.trace_tree`); `preview` is accepted: there is one shape."""
    run: dict[str, Any] = node["run"]
    run_id = str(run["run_id"])
    steps = await info.context.reads.steps(run_id)
    history = await info.context.reads.history(run_id)
    root = trace_tree.tree(
        run,
        _function_name(info, str(run["function_id"])),
        history,
        steps,
        started_at=_ms(run["run_started_at"]),
        ended_at=_ms(run["ended_at"]),
        metadata=await info.context.reads.metadata(run_id),
    )
    return _span_node(root, run_id, None, queued_at=run["created_at"])


def _ms(instant: str | None) -> int | None:
    return None if instant is None else parse_instant_ms(instant)


def _span_node(
    span: trace_tree.Span, run_id: str, parent: str | None, *, queued_at: str
) -> dict[str, Any]:
    started = rfc3339(span.started_at)
    return {
        "runID": run_id,
        "traceID": run_id,
        "spanID": span.span_id,
        "parentSpanID": parent,
        "name": span.name,
        "status": span.status,
        "attempts": span.attempts,
        "duration": span.duration_ms,
        "outputID": span.output_id,
        "queuedAt": started or queued_at,
        "startedAt": started,
        "endedAt": rfc3339(span.ended_at),
        "childrenSpans": [
            _span_node(child, run_id, span.span_id, queued_at=queued_at) for child in span.children
        ],
        "stepOp": span.op,
        "stepID": span.step_id,
        "stepType": span.step_type,
        "isRoot": span.kind == "run",
        "isUserland": False,
        "metadata": span.metadata,
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
        "cause": error.get("cause"),
    }


def _answer(output: Any, error: Any) -> dict[str, Any]:
    if error is not None:
        return {"data": None, "error": _error(error)}
    return {"data": codec.dumps(output), "error": None}


async def resolve_span_output(_: None, info: Info, outputID: str) -> Any:
    """The result behind an output id of `reads.trace_tree`: the run's, a step's, or the error
    of one failed attempt (of a step, or of the function's own code)."""
    owner, _at, attempt_text = outputID.partition("@")
    run_id, _sep, step_id = owner.partition(":")
    run = await _need_run(info, run_id)
    if attempt_text:
        attempt = int(attempt_text) if attempt_text.isdigit() else -1
        kinds = ("step.error", "step.failed") if step_id else ("call.error",)
        for entry in await info.context.reads.history(run_id):
            if (
                entry["kind"] in kinds
                and (entry["step_id"] or "") == step_id
                and entry["attempt"] == attempt
            ):
                return _answer(None, entry["data"])
    elif not step_id:
        failed = run["status"] == "Failed"
        return _answer(None if failed else run["output"], run["output"] if failed else None)
    else:
        for step in await info.context.reads.steps(run_id):
            if step["id"] == step_id:
                return _answer(step["output"], step["error"])
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
