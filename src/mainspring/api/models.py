"""What the REST API answers, as pydantic models: the OpenAPI document's schemas come from here.

The answers themselves are built by the read side's views (`reads.views`) and the services as
plain dicts, so nothing we produced is validated again on the way out; `tests/unit/test_models.py`
checks that each view has exactly its model's fields, and schemathesis checks every answer against
the document generated from these models.
"""

from __future__ import annotations

from typing import Any, Generic, Literal, TypeVar

from pydantic import BaseModel, Field, RootModel

T = TypeVar("T")
RunStatusName = Literal["Running", "Completed", "Failed", "Cancelled"]
Scope = Literal["admin", "read"]  # auth.keys.SCOPES (checked in test_models)


class Envelope(BaseModel, Generic[T]):
    """Every read and operation answers `{data, metadata}` (metadata: `fetched_at`, cursors)."""

    data: T
    metadata: dict[str, Any] = {}


class Error(BaseModel):
    error: str
    status: int
    code: str | None = None
    field: str | None = Field(None, description="the parameter or body field at fault")
    index: int | None = None


class Run(BaseModel):
    run_id: str
    function_id: str = Field(description="function slug `<app>-<fn>`")
    function_version: int
    environment_id: str
    event_id: str | None
    event_ids: list[str] = Field(description="the run's trigger events; several for a batch")
    status: RunStatusName
    output: Any
    run_started_at: str | None
    ended_at: str | None
    created_at: str | None


class RunListItem(Run):
    event_name: str | None
    duration_ms: int | None


class RunMetadata(BaseModel):
    """One metadata group of the run, after every update (`merge`/`set`/`delete`/`add`)."""

    scope: Literal["run", "step", "extended_trace"]
    kind: str = Field(description="`userland.<name>` or a reserved `inngest.*` kind")
    step_id: str | None = Field(description="the hashed step id; null for the run's own")
    span_id: str | None
    values: dict[str, Any]
    updated_at: str | None


class Defer(BaseModel):
    id: str | None = Field(description="the id given to `defer()`")
    hashed_id: str
    function_id: str = Field(description="the slug of the `createDefer` function")
    status: Literal["live", "aborted", "scheduled"]
    input: dict[str, Any]
    added_at: str | None
    event_id: str | None = Field(description="its `inngest/deferred.schedule` event, once sent")


class RunDetail(Run):
    original_run_id: str | None
    replay_id: str | None
    held: bool = Field(description="waiting for a resume")
    metadata: list[RunMetadata]
    defers: list[Defer]


class Event(BaseModel):
    internal_id: str
    id: str
    name: str
    data: dict[str, Any]
    user: dict[str, Any]
    ts: int
    v: str | None
    received_at: str | None
    source: str


class Step(BaseModel):
    id: str
    name: str | None
    op: str | None
    output: Any
    error: Any
    attempts: int
    completed_at: int | None


class HistoryEntry(BaseModel):
    at: int
    kind: str
    step_id: str | None
    step_name: str | None
    attempt: int | None
    data: Any


class Job(BaseModel):
    id: str
    kind: str
    step_id: str | None
    step_name: str | None
    attempt: int
    held: bool
    available_at: str | None
    leased: bool


class SpanError(BaseModel):
    attempt: int | None
    error: Any


class SpanEntry(BaseModel):
    at: str | None
    kind: str
    data: Any


class UserlandSpan(BaseModel):
    """A span the app exported (OTLP), with the spans it parents."""

    span_id: str
    trace_id: str
    parent_span_id: str | None
    step_id: str | None
    attempt: int | None
    name: str
    kind: str
    scope_name: str | None
    service_name: str | None
    status: Literal["UNSET", "OK", "ERROR"]
    status_message: str | None
    started_at: str | None
    ended_at: str | None
    duration_ms: float
    attributes: dict[str, Any]
    children: list[UserlandSpan]


class Span(BaseModel):
    step_id: str
    name: str | None
    op: str | None
    status: Literal["Running", "Completed", "Failed"]
    attempts: int
    errors: list[SpanError]
    output: Any
    error: Any
    started_at: str | None
    ended_at: str | None
    duration_ms: int | None
    history: list[SpanEntry]
    metadata: list[RunMetadata]
    userland: list[UserlandSpan]


class Trace(BaseModel):
    run: RunDetail
    trigger: dict[str, Any]
    spans: list[Span]
    history: list[HistoryEntry]
    userland: list[UserlandSpan] = Field(description="userland spans outside any step")


class EventsAccepted(BaseModel):
    ids: list[str] = Field(description="internal event ids")
    status: int


class Invoked(BaseModel):
    id: str = Field(description="the `inngest/function.invoked` event's internal id")
    status: int


class SignalSent(BaseModel):
    run_id: str = Field(description="the run the signal resumed")


class Cancelled(BaseModel):
    run_id: str
    status: str


class Rerun(BaseModel):
    run_id: str
    original_run_id: str


class Cancellation(BaseModel):
    id: str
    app_id: str | None
    function_id: str
    started_after: str | None
    started_before: str | None
    if_: str | None = Field(alias="if")
    cancelled: int
    created_at: str | None


class Deleted(BaseModel):
    id: str
    deleted: bool


class Replay(BaseModel):
    replay_id: str
    run_ids: list[str] = Field(description="the new runs")
    request: dict[str, Any]
    idempotency_key: str | None
    created_at: str | None


class GlobalKillSwitch(BaseModel):
    active: bool
    reason: str | None = None


class KillSwitch(BaseModel):
    active: bool
    reason: str | None
    requested_by: str | None
    since: str | None


class KillSwitchWithEnvironments(KillSwitch):
    """With environments on: the switch of all of them; after an all-environments flip, each."""

    all_environments: GlobalKillSwitch | None = None
    environments: dict[str, dict[str, Any]] | None = None


class Environment(BaseModel):
    name: str
    kind: str = Field(description="default, configured (--env) or branch")
    served: bool
    current: bool = Field(description="the environment this request is in")
    created_at: str | None
    active_at: str | None
    archived_at: str | None


class PauseState(BaseModel):
    function_id: str
    paused: bool
    reason: str | None
    requested_by: str | None
    since: str | None


class FlowOverrides(BaseModel):
    """A function's flow control: as synced, as overridden live (the override wins)."""

    function_id: str
    synced: dict[str, Any]
    overrides: dict[str, Any]
    updated_at: str | None
    updated_by: str | None


class FunctionTrigger(BaseModel):
    event: str | None
    expression: str | None
    cron: str | None


class FunctionSummary(BaseModel):
    function_id: str
    name: str
    app_id: str
    triggers: list[FunctionTrigger]
    paused: bool
    flow: FlowOverrides


class Resumed(BaseModel):
    function_id: str
    paused: bool
    resumed: int
    skipped_run_ids: list[str]


class Health(BaseModel):
    """`GET /health`, in Inngest's shape plus what an operator wants first."""

    status: int
    message: str
    database: str
    mode: str
    functions: int
    components: Any
    database_work: Any


class AppSync(BaseModel):
    url: str
    error: str | None
    synced_at: int | None


ENVIRONMENTS = "the environments it may be used in; null: all"


class Credential(BaseModel):
    id: str
    name: str
    created_at: int = Field(description="epoch milliseconds")
    revoked_at: int | None = Field(description="epoch milliseconds")
    hash_prefix: str


class EventKey(Credential):
    env: str = Field(description="the environment its events go to")


class ApiToken(Credential):
    scope: Scope
    environments: list[str] | None = Field(description=ENVIRONMENTS)


class CreatedEventKey(BaseModel):
    id: str
    name: str
    env: str
    key: str = Field(description="shown this once")
    created_at: int = Field(description="epoch milliseconds")


class CreatedApiToken(BaseModel):
    id: str
    name: str
    scope: Scope
    environments: list[str] | None = Field(description=ENVIRONMENTS)
    token: str = Field(description="shown this once")
    created_at: int = Field(description="epoch milliseconds")


class Revoked(BaseModel):
    revoked: Literal[True]


class Session(BaseModel):
    scope: Scope
    csrf_token: str
    environments: list[str] | None = Field(description=ENVIRONMENTS)


class PrometheusText(RootModel[str]):
    """`GET /metrics`: the Prometheus text exposition format."""


class AuditTarget(BaseModel):
    kind: str | None = Field(description="run, function, app, url, replay, cancellation, …")
    id: str


class AuditEntry(BaseModel):
    """One operator action: who, when, what and why."""

    id: str = Field(description="ULID of the instant; `metadata.cursor` is one of these")
    at: str
    actor: str = Field(
        description="`token:<name>`, `session:<name>`, `signing-key`, `dev`, `cli:<user>`, "
        "`sdk`, `connect` or `system`"
    )
    action: str = Field(description="`<thing>.<verb>`, e.g. `kill_switch.on`, `run.rerun`")
    target: AuditTarget | None
    reason: str | None
    details: dict[str, Any]
