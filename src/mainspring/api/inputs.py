"""What the REST API accepts, as pydantic models: path, query and header parameters and bodies.

They describe the inputs for the OpenAPI document; the handlers parse requests themselves (with
the messages and `field` names the tests pin), so these models are the documentation of that
parsing, checked by schemathesis against the running server.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field, RootModel

from mainspring.api.models import RunStatusName, Scope
from mainspring.auth.keys import MAX_LABEL
from mainspring.settings import MAX_ZOMBIE_GRACE_S

Time = str | None  # RFC 3339 or epoch milliseconds


class PathParams(BaseModel):
    """Every path parameter, by name; an operation documents those its path names."""

    key: str = Field(description="event key")
    slug: str = Field(description="function slug")
    event_id: str = Field(description="internal event id (ULID)")
    run_id: str = Field(description="run id (ULID)")
    function_id: str = Field(description="function slug `<app>-<fn>`")
    cancellation_id: str = Field(description="id")
    ref: str = Field(description="id or name")


class EventQuery(BaseModel):
    name: str | None = Field(None, description="event name")
    received_after: Time = Field(None, description="RFC 3339 or epoch ms")
    received_before: Time = Field(None, description="RFC 3339 or epoch ms (exclusive)")
    cursor: str | None = Field(None, description="`metadata.cursor` of the previous page")
    limit: int | None = Field(None, ge=1, description="1..1000")


class RunQuery(BaseModel):
    status: str | None = Field(
        None, description="one or a comma list of Running, Completed, Failed, Cancelled"
    )
    function_id: str | None = Field(None, description="function slug")
    app_id: str | None = Field(None, description="app id (name)")
    started_after: Time = Field(
        None, description="created at or after (RFC 3339 or epoch ms); alias `from`"
    )
    started_before: Time = Field(
        None, description="created at or before (RFC 3339 or epoch ms); alias `until`"
    )
    cursor: str | None = Field(None, description="`metadata.cursor` of the previous page")
    query: str | None = Field(
        None, description='CEL over the trigger `event`, e.g. `event.data.user_id == "u1"`'
    )
    limit: int | None = Field(
        None, ge=1, description="1..1000 (default 100; larger values are capped)"
    )


class MetricsQuery(BaseModel):
    hours: float | None = Field(None, gt=0, le=2160, description="window in hours (default 24)")


class StatsQuery(BaseModel):
    window: Literal["hour", "day", "week", "1h", "24h", "1d", "7d"] | None = Field(
        None, description="hour (1-minute intervals, default), day (15 min) or week (1 h)"
    )


class ZombieQuery(BaseModel):
    grace: float | None = Field(
        None,
        ge=0,
        le=MAX_ZOMBIE_GRACE_S,
        description="seconds unchanged (default: --zombie-grace)",
    )


class ReplayHeaders(BaseModel):
    idempotency_key: str | None = Field(
        None,
        alias="Idempotency-Key",
        description="a repeated key answers the first replay and starts nothing",
    )


class EventsBody(RootModel[dict[str, Any] | list[Any]]):
    """One event or an array of events."""


class InvokeBody(BaseModel):
    data: dict[str, Any] = {}
    user: dict[str, Any] = {}


class FromStep(BaseModel):
    stepId: str


class RerunBody(BaseModel):
    """Optional: without `fromStep` the run is repeated from the start."""

    fromStep: FromStep | None = None


class AlertTestBody(BaseModel):
    """Optional: without `channel` every configured channel gets the test message."""

    channel: str | None = Field(None, description="webhook, slack or email (a configured one)")


class SignalBody(BaseModel):
    signal: str = Field(min_length=1, description="the name a run waits for")
    data: Any = Field(None, description="any JSON; the waiting step returns `{signal, data}`")


class HoldBody(BaseModel):
    reason: str | None = None
    requested_by: str | None = None


class ReleaseBody(BaseModel):
    skip_held_events: bool = Field(False, description="end held runs instead")


class KillSwitchBody(HoldBody):
    all_environments: bool = Field(False, description="every environment at once")


class KillSwitchRelease(ReleaseBody):
    all_environments: bool = Field(False, description="every environment at once")


class ThrottleOverride(BaseModel):
    limit: int = Field(ge=1)
    period: str = Field(description="duration, at least 1s, e.g. `1m`")
    burst: int = Field(1, ge=1)


class RateLimitOverride(BaseModel):
    limit: int = Field(ge=1)
    period: str = Field(description="duration up to 24h, e.g. `1h`")


class PriorityOverride(BaseModel):
    run: str = Field(description="CEL over `event`: seconds to move the run ahead (or back)")


class OverridesBody(BaseModel):
    """Each field wins over the synced value until cleared; absent or null: the synced value.
    Throttle and rate limit keep the synced `key`."""

    concurrency: int | None = Field(None, ge=1, description="caps the function's own keys")
    throttle: ThrottleOverride | None = None
    rateLimit: RateLimitOverride | None = None
    priority: PriorityOverride | None = None
    requested_by: str | None = None


class OverridesClear(BaseModel):
    requested_by: str | None = None


class CancellationBody(BaseModel):
    app_id: str | None = None
    function_id: str
    started_after: str | None = None
    started_before: str
    if_: str | None = Field(None, alias="if")


class ReplayRuns(BaseModel):
    run_ids: list[str] = Field(min_length=1, max_length=1000)


class ReplayFunction(BaseModel):
    function_id: str
    status: RunStatusName = "Failed"
    started_after: str | None = None
    started_before: str | None = None


class ReplayBody(RootModel[ReplayRuns | ReplayFunction]):
    """Rerun `run_ids`, or the runs of a function by status and window."""


class AppUrl(BaseModel):
    url: str


class NewEventKey(BaseModel):
    name: str = Field(min_length=1, max_length=MAX_LABEL)
    env: str = Field(
        "production",
        description="the environment its events go to, whatever a request's X-Inngest-Env says",
    )


class NewApiToken(BaseModel):
    name: str = Field(min_length=1, max_length=MAX_LABEL)
    scope: Scope
    environments: list[str] | None = Field(
        None, min_length=1, description="the environments it may be used in; omitted: all"
    )


class AuditQuery(BaseModel):
    action: str | None = Field(None, description="e.g. `kill_switch.on`, `run.cancel`")
    actor: str | None = Field(None, description="e.g. `token:ops`, `session:ops`, `dev`")
    target: str | None = Field(None, description="a target id: run, function slug, app id, …")
    since: Time = Field(None, description="RFC 3339 or epoch ms")
    until: Time = Field(None, description="RFC 3339 or epoch ms (inclusive)")
    cursor: str | None = Field(None, description="`metadata.cursor` of the previous page")
    limit: int | None = Field(None, ge=1, description="1..1000 (default 100)")
