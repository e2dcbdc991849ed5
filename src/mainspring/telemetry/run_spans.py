"""One ended run as OpenTelemetry spans, built from its recorded facts (pure; unit-tested).

The tree, all in the run's trace (`telemetry.ids`):

    <function name>                 the run: created → ended; status ERROR when it failed
      queued                        created → first call (queue wait and flow-control delay)
      <step name>                   one per step, from `reads.trace.read` (the dashboard's pass)
        attempt 0, attempt 1 …      each SDK call that ran the step (`step.run`, requests),
                                    when it took more than one or failed (else the step is
                                    its one attempt, as `reads.trace_tree` and Inngest show it)
        <userland spans>            the app's own spans, under the attempt that made them
      <sleep / wait / invoke name>  the time the run spent there; an invoke links to the
                                    child run's trace, a child run links back to it
      finalization                  the call that returned the function's result, when it
                                    failed or needed more than one attempt (+ attempts)

Times are the recorded ones (milliseconds); the first step's start is clamped to the run's
first call, as the history has no entry between "scheduled" and the first reply.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import Event, ReadableSpan
from opentelemetry.sdk.util.instrumentation import InstrumentationScope
from opentelemetry.trace import Link, SpanContext, SpanKind, Status, StatusCode, TraceFlags

from mainspring import codec
from mainspring.reads.trace import Attempt, TimelineStep, read
from mainspring.telemetry import ids

# Attribute names (what each span carries is listed in the README, "Traces (OpenTelemetry)").
RUN_ID = "mainspring.run.id"
RUN_STATUS = "mainspring.run.status"
FUNCTION_ID = "mainspring.function.id"
FUNCTION_NAME = "mainspring.function.name"
EVENT_ID = "mainspring.event.id"
EVENT_NAME = "mainspring.event.name"
STEP_ID = "mainspring.step.id"
STEP_OP = "mainspring.step.op"
STEP_STATUS = "mainspring.step.status"
ATTEMPT = "mainspring.step.attempt"
INVOKED_RUN_ID = "mainspring.invoke.run_id"
PARENT_RUN_ID = "mainspring.invoke.parent_run_id"

_MS = 1_000_000  # nanoseconds
_SAMPLED = TraceFlags(TraceFlags.SAMPLED)
_OP_OF_KIND = {
    "step": "Step",
    "sleep": "Sleep",
    "wait": "WaitForEvent",
    "invoke": "InvokeFunction",
    "request": "Gateway",
    "signal": "WaitForSignal",
}
_CALLS = ("step", "request")  # kinds whose attempts are SDK calls
_USER_KINDS = {kind.name: kind for kind in SpanKind}


@dataclass(frozen=True, slots=True)
class RunFacts:
    """What the store recorded of one ended run (rows as `reads.views` shapes them)."""

    run: Mapping[str, Any]  # id, function_slug, event_id, status, output, *_at (ms)
    function_name: str
    event_name: str | None
    history: list[dict[str, Any]]
    steps: list[dict[str, Any]]
    userland: list[dict[str, Any]]
    invoked_by: tuple[str, str] | None = None  # (parent run id, its invoke step id)
    invoked: Mapping[str, str] = field(default_factory=dict)  # invoke step id → child run id


@dataclass(frozen=True, slots=True)
class Origin:
    """Who exports: the server's resource and scope; apps' spans get their service's."""

    resource: Resource
    scope: InstrumentationScope


def build(facts: RunFacts, origin: Origin) -> list[ReadableSpan]:
    """Every span of the run, parents before children."""
    return _Builder(facts, origin).spans()


class _Builder:
    def __init__(self, facts: RunFacts, origin: Origin) -> None:
        self.facts = facts
        self.origin = origin
        self.run_id = str(facts.run["id"])
        self.trace = ids.trace_id(self.run_id)
        self.root = self._context("run")
        self.out: list[ReadableSpan] = []
        self.attempt_spans: dict[tuple[str, int], SpanContext] = {}
        self.step_spans: dict[str, SpanContext] = {}

    def _context(self, *parts: object) -> SpanContext:
        return SpanContext(self.trace, ids.span_id(self.run_id, *parts), False, _SAMPLED)

    def _base(self) -> dict[str, Any]:
        """What every span of ours carries (the function is on the root)."""
        return {RUN_ID: self.run_id}

    def _emit(
        self,
        name: str,
        context: SpanContext,
        parent: SpanContext | None,
        times: tuple[int, int],
        attributes: dict[str, Any],
        status: Status,
        *,
        events: Sequence[Event] = (),
        links: Sequence[Link] = (),
    ) -> None:
        start, end = times
        self.out.append(
            ReadableSpan(
                name,
                context,
                parent,
                self.origin.resource,
                attributes,
                events,
                links,
                SpanKind.INTERNAL,
                status=status,
                start_time=start * _MS,
                end_time=max(end, start) * _MS,
                instrumentation_scope=self.origin.scope,
            )
        )

    def spans(self) -> list[ReadableSpan]:
        run = self.facts.run
        created = int(run["created_at"])
        ended = int(run["ended_at"] if run["ended_at"] is not None else created)
        started = int(run["started_at"]) if run["started_at"] is not None else None
        self._run_span(created, ended)
        if started is not None and started > created:
            attributes = self._base()
            self._emit(
                "queued",
                self._context("queued"),
                self.root,
                (created, started),
                attributes,
                _unset(),
            )
        found, run_errors = read(self.facts.history, self.facts.steps)
        floor = started if started is not None else created
        last = floor
        for step in sorted(found.values(), key=lambda s: s.start):
            self._step(step, floor, ended)
            last = max(last, step.end or floor)
        # A clean finish is the root's own end (nothing to add but a span's cost); a failed
        # one, or one that took more than one call, shows its calls.
        if run["status"] == "Failed" or (run["status"] == "Completed" and run_errors):
            self._finalization(run_errors, last, ended)
        self._userland()
        return self.out

    def _run_span(self, created: int, ended: int) -> None:
        facts, run = self.facts, self.facts.run
        attributes = {
            **self._base(),
            FUNCTION_ID: str(run["function_slug"]),
            FUNCTION_NAME: facts.function_name,
            RUN_STATUS: str(run["status"]),
            EVENT_ID: str(run["event_id"]),
        }
        if facts.event_name:
            attributes[EVENT_NAME] = facts.event_name
        links: list[Link] = []
        if facts.invoked_by is not None:
            parent_run, step_id = facts.invoked_by
            attributes[PARENT_RUN_ID] = parent_run
            target = SpanContext(
                ids.trace_id(parent_run), ids.span_id(parent_run, "step", step_id), False, _SAMPLED
            )
            links.append(Link(target, {PARENT_RUN_ID: parent_run, STEP_ID: step_id}))
        status = _unset()
        if run["status"] == "Failed":
            status = Status(StatusCode.ERROR, _message(run["output"]))
        elif run["status"] == "Completed":
            status = Status(StatusCode.OK)
        self._emit(
            facts.function_name, self.root, None, (created, ended), attributes, status, links=links
        )

    def _step(self, step: TimelineStep, floor: int, ended: int) -> None:
        context = self._context("step", step.step_id)
        self.step_spans[step.step_id] = context
        start = max(step.start, floor)
        end = step.end if step.end is not None else ended
        memo = step.memo
        op = str(memo["op"]) if memo else _OP_OF_KIND.get(step.kind, "Step")
        failed = memo is not None and memo["error"] is not None
        attributes = {
            **self._base(),
            STEP_ID: step.step_id,
            STEP_OP: op,
            STEP_STATUS: step.status,
            ATTEMPT: _last_attempt(step),
        }
        links: list[Link] = []
        child = self.facts.invoked.get(step.step_id)
        if step.kind == "invoke" and child is not None:
            attributes[INVOKED_RUN_ID] = child
            root = SpanContext(ids.trace_id(child), ids.span_id(child, "run"), False, _SAMPLED)
            links.append(Link(root, {INVOKED_RUN_ID: child}))
        status = _step_status(step, failed)
        self._emit(step.name, context, self.root, (start, end), attributes, status, links=links)
        if step.kind in _CALLS and step.attempts:  # one attempt that worked: the step is it
            self._attempts(step, context, (start, end), failed)

    def _attempts(
        self, step: TimelineStep, parent: SpanContext, times: tuple[int, int], failed: bool
    ) -> None:
        begin, end = times
        for index, attempt in enumerate(step.attempts):
            number = attempt.number - 1
            self._attempt(step.step_id, number, parent, (begin, attempt.at), attempt.error)
            begin = max(begin, attempt.at)
            if failed and index == len(step.attempts) - 1:
                return
        number = len(step.attempts)
        unfinished = step.memo is None  # in flight or retrying when the run ended
        self._attempt(step.step_id, number, parent, (begin, end), None, unfinished=unfinished)

    def _attempt(
        self,
        step_id: str,
        number: int,
        parent: SpanContext,
        times: tuple[int, int],
        error: Any,
        *,
        unfinished: bool = False,
    ) -> None:
        context = self._context("attempt", step_id, number)
        self.attempt_spans[(step_id, number)] = context
        attributes = {**self._base(), STEP_ID: step_id, ATTEMPT: number}
        events: list[Event] = []
        if unfinished:
            status = _unset()
        elif error is None:
            status = Status(StatusCode.OK)
        else:
            status = Status(StatusCode.ERROR, _message(error))
            events.append(_exception(error, times[1]))
        self._emit(f"attempt {number}", context, parent, times, attributes, status, events=events)

    def _finalization(self, errors: list[Attempt], begin: int, ended: int) -> None:
        context = self._context("finalization")
        failed = self.facts.run["status"] == "Failed"
        attributes = {**self._base(), ATTEMPT: len(errors)}
        status = (
            Status(StatusCode.ERROR, _message(self.facts.run["output"]))
            if failed
            else Status(StatusCode.OK)
        )
        self._emit("finalization", context, self.root, (begin, ended), attributes, status)
        for attempt in errors:
            number = attempt.number - 1
            self._attempt("", number, context, (begin, attempt.at), attempt.error)
            begin = max(begin, attempt.at)

    def _userland(self) -> None:
        rows = self.facts.userland
        own = {str(row["span_id"]) for row in rows}
        resources: dict[str, Resource] = {}
        for row in rows:
            parent = self._userland_parent(row, own)
            service = str(row["service_name"] or "app")
            resource = resources.get(service) or resources.setdefault(
                service, Resource.create({"service.name": service})
            )
            attributes = {**_flat(row["attributes"]), **self._base()}
            if row["step_id"]:
                attributes[STEP_ID] = str(row["step_id"])
            status_code = {"OK": StatusCode.OK, "ERROR": StatusCode.ERROR}.get(str(row["status"]))
            status = Status(
                status_code or StatusCode.UNSET,
                row["status_message"] if status_code is StatusCode.ERROR else None,
            )
            self.out.append(
                ReadableSpan(
                    str(row["name"]),
                    SpanContext(self.trace, int(str(row["span_id"]), 16) or 1, False, _SAMPLED),
                    parent,
                    resource,
                    attributes,
                    kind=_USER_KINDS.get(str(row["kind"]), SpanKind.INTERNAL),
                    status=status,
                    start_time=int(row["start_ns"]),
                    end_time=max(int(row["end_ns"]), int(row["start_ns"])),
                    instrumentation_scope=InstrumentationScope(
                        str(row["scope_name"] or "userland")
                    ),
                )
            )

    def _userland_parent(self, row: Mapping[str, Any], own: set[str]) -> SpanContext:
        """The app's parent span if we have it; else the attempt that made it, its step, or
        the run (the SDK's own per-call span is not kept, see `runs.userland`)."""
        parent = row["parent_span_id"]
        if parent and str(parent) in own:
            return SpanContext(self.trace, int(str(parent), 16) or 1, False, _SAMPLED)
        step_id = row["step_id"]
        if step_id:
            attempt = self.attempt_spans.get((str(step_id), int(row["attempt"] or 0)))
            return attempt or self.step_spans.get(str(step_id), self.root)
        return self.root


def _user_status(row: Mapping[str, Any]) -> Status:
    if row["status"] == "ERROR":
        return Status(StatusCode.ERROR, row["status_message"])
    return Status(StatusCode.OK if row["status"] == "OK" else StatusCode.UNSET)


def _unset() -> Status:
    return Status(StatusCode.UNSET)


def _last_attempt(step: TimelineStep) -> int:
    """The number of the step's last attempt, from 0 (as `reads.trace_tree` counts)."""
    if step.memo is not None:
        return max(int(step.memo["attempts"]) - 1, len(step.attempts) - 1, 0)
    return len(step.attempts)


def _step_status(step: TimelineStep, failed: bool) -> Status:
    if failed:
        return Status(StatusCode.ERROR, _message(step.error))
    if step.memo is not None:
        return Status(StatusCode.OK)
    return _unset()  # still sleeping, waiting or retrying when the run ended (cancelled)


def _message(error: Any) -> str:
    if isinstance(error, str):
        error = codec.loads(error) if error.startswith("{") else error
    if isinstance(error, dict):
        name, message = error.get("name"), error.get("message")
        return ": ".join(str(part) for part in (name, message) if part) or "error"
    return str(error) if error is not None else "error"


def _exception(error: Any, at_ms: int) -> Event:
    """The OpenTelemetry semantic convention for a recorded exception."""
    attributes: dict[str, Any] = {"exception.message": _message(error)}
    if isinstance(error, dict):
        if error.get("name"):
            attributes["exception.type"] = str(error["name"])
        if error.get("stack"):
            attributes["exception.stacktrace"] = str(error["stack"])
    return Event("exception", attributes, at_ms * _MS)


def _flat(attributes: Mapping[str, Any]) -> dict[str, Any]:
    """OTLP attribute values are scalars or lists of one scalar type; others go as JSON."""
    flat: dict[str, Any] = {}
    for key, value in attributes.items():
        if isinstance(value, (str, bool, int, float)):
            flat[key] = value
        elif isinstance(value, list) and _homogeneous(value):
            flat[key] = value
        elif value is not None:
            flat[key] = codec.dumps(value)
    return flat


def _homogeneous(values: Iterable[Any]) -> bool:
    kinds = {type(value) for value in values}
    return len(kinds) <= 1 and kinds <= {str, bool, int, float}
