"""The OpenAPI 3.1 document of the REST API: what each route is and answers, next to the routes.

Each route's metadata (tag, summary, status codes) names models from `api/models.py` and
`api/inputs.py`; `api/openapi.py` generates every schema from them. `tests/unit/test_openapi.py`
checks both variants (dev, production) against the OpenAPI schema, that every route the app serves
is described here (or listed in `UNDOCUMENTED`) and that every route described here is served, so
the two cannot drift apart; schemathesis checks the answers against the schemas.
"""

from __future__ import annotations

import copy
import functools
from typing import Any

from mainspring import __version__
from mainspring.api import inputs as i
from mainspring.api import models as m
from mainspring.api.openapi import (
    BAD,
    JSON,
    NOT_FOUND,
    TEXT,
    Answer,
    Operation,
    Paths,
    created,
    failure,
    generate,
    ok,
    secured,
)
from mainspring.api.openapi_audit import AUDIT
from mainspring.auth.sessions import COOKIE

E = m.Envelope
Op = Operation

# SDK-facing protocol routes (described in the Inngest protocol, not an operator's API).
UNDOCUMENTED = frozenset(
    {
        "/fn/register",
        "/v0/runs/{run_id}/actions",
        "/v0/runs/{run_id}/batch",
        "/v1/checkpoint/{run_id}/async",
        "/v1/checkpoint",  # durable endpoints (api/endpoints.py)
        "/v1/checkpoint/{run_id}/steps",
        "/v1/checkpoint/{run_id}/output",
        "/v1/http/runs/{run_id}/output",
        "/v1/runs/{run_id}/metadata",
        "/v1/traces/userland",
        "/v0/gql",
        "/v0/connect/start",
        "/v0/connect/flush",
        "/v1/connect/workers",  # Connect: docs/connect.md
        "/v1/realtime/publish",  # realtime: docs/realtime.md (streams do not fit a schema)
        "/v1/realtime/publish/tee",  # a durable endpoint's raw stream (api/realtime_tee.py)
        "/v1/realtime/token",
        "/v1/realtime/sse",
        "/openapi.json",
        "/docs",
        "/docs/assets/{name}",
    }
)

RUN = {**ok(E[m.RunDetail]), **NOT_FOUND}
RUN_LIST = {**ok(E[list[m.RunListItem]]), **BAD}
CANCELLED = {**ok(E[m.Cancelled]), **NOT_FOUND}
RERUN = {**created(E[m.Rerun]), **NOT_FOUND, **BAD}
SEND = "Send events with `Authorization: Bearer <event key>` (any key in dev mode)"

EVENTS: Paths = {
    "/e/{key}": {
        "post": Op(
            "Events",
            "Send one event or an array (any key in dev mode)",
            {**ok(m.EventsAccepted, "stored; `ids` are internal event ids"), **BAD},
            body=i.EventsBody,
            body_required=True,
        )
    },
    "/v1/events": {
        "get": Op(
            "Events",
            "List events, newest first",
            {**ok(E[list[m.Event]]), **BAD},
            query=i.EventQuery,
        ),
        "post": Op(
            "Events",
            SEND,
            {**ok(m.EventsAccepted, "stored"), **BAD, **failure(401, "no event key")},
            body=i.EventsBody,
            body_required=True,
        ),
    },
    "/v1/events/{event_id}": {"get": Op("Events", "One event", {**ok(E[m.Event]), **NOT_FOUND})},
    "/v1/events/{event_id}/runs": {
        "get": Op("Events", "Runs the event started", ok(E[list[m.Run]]))
    },
    "/invoke/{slug}": {
        "post": Op(
            "Functions",
            "Invoke a function with `{data}` (emits `inngest/function.invoked`)",
            {**ok(m.Invoked, "the event id"), **NOT_FOUND, **BAD},
            body=i.InvokeBody,
        )
    },
}

RUNS: Paths = {
    "/v1/runs": {"get": Op("Runs", "List runs with filters and a CEL query", RUN_LIST, i.RunQuery)},
    "/v2/runs": {"get": Op("Runs", "List runs (v2; same filters)", RUN_LIST, i.RunQuery)},
    "/v1/runs/{run_id}": {
        "get": Op("Runs", "One run", RUN),
        "delete": Op("Runs", "Cancel a run", CANCELLED),
    },
    "/v0/runs/{run_id}": {"delete": Op("Runs", "Cancel a run (legacy path)", CANCELLED)},
    "/v2/runs/{run_id}": {"get": Op("Runs", "One run, with `original_run_id` for reruns", RUN)},
    "/v2/runs/{run_id}/trace": {
        "get": Op(
            "Runs",
            "Trigger events and one span per step (attempts, errors, timing)",
            {**ok(E[m.Trace]), **NOT_FOUND},
        )
    },
    "/v2/runs/{run_id}/cancel": {"post": Op("Runs", "Cancel a run", CANCELLED)},
    "/v1/signals": {
        "post": Op(
            "Runs",
            "Send a signal: resume the run waiting for it (`step.waitForSignal`) with `data`",
            {**ok(E[m.SignalSent]), **BAD, **failure(404, "no run waits for the signal")},
            body=i.SignalBody,
            body_required=True,
        )
    },
    "/v1/runs/{run_id}/rerun": {
        "post": Op(
            "Runs",
            "A new run of the same function with the same event(s); from a step: the steps "
            "recorded before it are kept, it and the later ones run again",
            RERUN,
            body=i.RerunBody,
        )
    },
    "/v2/runs/{run_id}/rerun": {
        "post": Op("Runs", "Rerun (v2 path), optionally `fromStep`", RERUN, body=i.RerunBody)
    },
    "/v1/runs/{run_id}/steps": {
        "get": Op(
            "Runs", "Memoized steps in completion order", {**ok(E[list[m.Step]]), **NOT_FOUND}
        )
    },
    "/v1/runs/{run_id}/history": {
        "get": Op(
            "Runs", "Every state change of the run", {**ok(E[list[m.HistoryEntry]]), **NOT_FOUND}
        )
    },
    "/v1/runs/{run_id}/jobs": {
        "get": Op(
            "Runs",
            "Queue items of the run (`held` while paused)",
            {**ok(E[list[m.Job]]), **NOT_FOUND},
        )
    },
}

OPERATIONS: Paths = {
    "/v1/cancellations": {
        "post": Op(
            "Operations",
            "Cancel running runs of a function created in a window (optional CEL `if`)",
            {**created(E[m.Cancellation]), **BAD},
            body=i.CancellationBody,
            body_required=True,
        ),
        "get": Op("Operations", "Bulk cancellations", ok(E[list[m.Cancellation]])),
    },
    "/v1/cancellations/{cancellation_id}": {
        "delete": Op(
            "Operations", "Delete a bulk cancellation record", {**ok(E[m.Deleted]), **NOT_FOUND}
        )
    },
    "/v1/replays": {
        "post": Op(
            "Operations",
            "Bulk replay: rerun `run_ids`, or the runs of a function by status and window",
            {
                **created(E[m.Replay]),
                **BAD,
                **failure(409, "this `Idempotency-Key` was used with a different request"),
            },
            headers=i.ReplayHeaders,
            body=i.ReplayBody,
            body_required=True,
        )
    },
    "/v1/kill-switch": {
        "get": Op("Operations", "Kill switch state", ok(E[m.KillSwitchWithEnvironments])),
        "post": Op(
            "Operations",
            "Activate: no function makes new SDK calls",
            {**ok(E[m.KillSwitchWithEnvironments]), **BAD},
            body=i.KillSwitchBody,
        ),
        "delete": Op(
            "Operations",
            "Deactivate; held runs start unless `skip_held_events`",
            {**ok(E[m.KillSwitchWithEnvironments]), **BAD},
            body=i.KillSwitchRelease,
        ),
    },
    "/v1/environments": {
        "get": Op("Environments", "The server's environments", ok(E[list[m.Environment]]))
    },
    "/v1/functions/paused": {"get": Op("Functions", "Paused functions", ok(E[list[m.PauseState]]))},
    "/v1/functions/{function_id}/pause": {
        "get": Op("Functions", "Pause state of a function", {**ok(E[m.PauseState]), **NOT_FOUND}),
        "post": Op(
            "Functions",
            "Pause: no new runs start, started runs stop at their next step",
            {**ok(E[m.PauseState]), **NOT_FOUND, **BAD},
            body=i.HoldBody,
        ),
    },
    "/v1/functions": {"get": Op("Functions", "Synced functions", ok(E[list[m.FunctionSummary]]))},
    "/v1/functions/{function_id}": {
        "get": Op("Functions", "One function", {**ok(E[m.FunctionSummary]), **NOT_FOUND})
    },
    "/v1/functions/{function_id}/overrides": {
        "get": Op(
            "Functions",
            "Flow control: synced and overridden",
            {**ok(E[m.FlowOverrides]), **NOT_FOUND},
        ),
        "put": Op(
            "Functions",
            "Replace the live overrides (concurrency, throttle, rateLimit, priority)",
            {**ok(E[m.FlowOverrides]), **NOT_FOUND, **BAD},
            body=i.OverridesBody,
        ),
        "delete": Op(
            "Functions",
            "Clear the live overrides: the synced config applies again",
            {**ok(E[m.FlowOverrides]), **NOT_FOUND, **BAD},
            body=i.OverridesClear,
        ),
    },
    "/v1/functions/{function_id}/resume": {
        "post": Op(
            "Functions",
            "Resume; events received while paused start runs unless `skip_held_events`",
            {**ok(E[m.Resumed]), **NOT_FOUND, **BAD},
            body=i.ReleaseBody,
        )
    },
}

HEALTH: Paths = {
    "/v1/functions/{function_id}/stats": {
        "get": Op(
            "Health",
            "Charts: runs per interval, p50/p95, per-step distribution and failure rate",
            {**ok(E[dict[str, Any]]), **NOT_FOUND, **BAD},
            query=i.StatsQuery,
        )
    },
    "/v1/operations/stats": {
        "get": Op(
            "Health",
            "Charts: queue depth, ready lag, in-flight calls, dead letters per interval",
            {**ok(E[dict[str, Any]]), **BAD},
            query=i.StatsQuery,
        )
    },
    "/v1/metrics/functions/{function_id}": {
        "get": Op(
            "Health",
            "Counts by status, success rate, p50/p95/p99 duration, attempts",
            {**ok(E[dict[str, Any]]), **NOT_FOUND, **BAD},
            query=i.MetricsQuery,
        )
    },
    "/v1/health": {
        "get": Op(
            "Health",
            "Queue, dead letters, success rates, kill switch, alert states",
            {**ok(E[dict[str, Any]]), 503: Answer("database unavailable")},
        )
    },
    "/v1/alerts": {
        "get": Op(
            "Health",
            "Alert channels (no secrets), rule thresholds and rule states",
            ok(E[dict[str, Any]]),
        )
    },
    "/v1/alerts/test": {
        "post": Op(
            "Health",
            "Send a test alert to every configured channel (or `channel`), past the throttles",
            {**ok(E[list[dict[str, Any]]]), **BAD},
            body=i.AlertTestBody,
        )
    },
    "/v1/zombies": {
        "get": Op(
            "Health",
            "Running runs with nothing queued, waiting or leased (unchanged for `grace` s)",
            {**ok(E[list[dict[str, Any]]]), **BAD},
            query=i.ZombieQuery,
        )
    },
    "/v1/zombies/repair": {
        "post": Op(
            "Health",
            "Re-queue a discovery call for each zombie run now",
            {**ok(E[dict[str, Any]]), **BAD},
            query=i.ZombieQuery,
        )
    },
    "/health": {
        "get": Op(
            "Health",
            "Liveness (Inngest shape)",
            {**ok(m.Health), 503: Answer("degraded", m.Health)},
        )
    },
    "/metrics": {
        "get": Op(
            "Health",
            "Prometheus metrics",
            {200: Answer("text exposition format", m.PrometheusText, TEXT)},
        )
    },
}

APPS: Paths = {
    "/v1/admin/apps": {
        "post": Op(
            "Apps",
            "Sync an app by URL (issue 8)",
            {**ok(E[m.AppSync]), **BAD, 502: Answer("the app did not answer", E[m.AppSync])},
            body=i.AppUrl,
            body_required=True,
        )
    },
    "/dev": {
        "get": Op(
            "Apps",
            "Dev server info: synced functions and app URLs",
            {**ok(), **failure(404, "production mode (dev only)")},
        )
    },
}

REVOKED = {**ok(E[m.Revoked]), **NOT_FOUND}
ADMIN: Paths = {
    "/v1/admin/event-keys": {
        "get": Op(
            "Admin",
            "Event keys (active and revoked; the secrets are never shown again)",
            ok(E[list[m.EventKey]]),
        ),
        "post": Op(
            "Admin",
            "Create an event key; the answer is the only time `key` is shown",
            {**created(E[m.CreatedEventKey]), **BAD},
            body=i.NewEventKey,
            body_required=True,
        ),
    },
    "/v1/admin/event-keys/{ref}": {
        "delete": Op("Admin", "Revoke an event key (by id or name)", REVOKED)
    },
    "/v1/admin/api-tokens": {
        "get": Op(
            "Admin",
            "API tokens (active and revoked; the secrets are never shown again)",
            ok(E[list[m.ApiToken]]),
        ),
        "post": Op(
            "Admin",
            "Create an API token; the answer is the only time `token` is shown",
            {**created(E[m.CreatedApiToken]), **BAD},
            body=i.NewApiToken,
            body_required=True,
        ),
    },
    "/v1/admin/api-tokens/{ref}": {
        "delete": Op("Admin", "Revoke an API token (by id or name)", REVOKED)
    },
    "/auth/session": {
        "get": Op(
            "Admin",
            "The signed-in session's scope and CSRF token (for scripts)",
            {**ok(m.Session), 303: Answer("no session: redirect to `/login`")},
            security=[{"session": []}],
        )
    },
}
PATHS: Paths = {**EVENTS, **RUNS, **OPERATIONS, **HEALTH, **APPS, **AUDIT}

SECURITY_SCHEMES: JSON = {
    "apiToken": {
        "type": "http",
        "scheme": "bearer",
        "description": "An API token (`POST /v1/admin/api-tokens`, `mainspring token create`) "
        "or the signing key (raw or as the SDKs hash it), which is an admin token. A `read` "
        "token may only GET; a token limited to environments is refused (403, `field: env`) in "
        "the others; a signed-in dashboard session works too (with `X-CSRF-Token` for writes).",
    },
    "eventKey": {
        "type": "http",
        "scheme": "bearer",
        "description": "An event key (`INNGEST_EVENT_KEY` or `POST /v1/admin/event-keys`); its "
        "events go to the key's environment",
    },
    "session": {
        "type": "apiKey",
        "in": "cookie",
        "name": COOKIE,
        "description": "The dashboard's login session (`POST /login`)",
    },
}
PUBLIC = frozenset({"/health"})
# `/e/{key}`: the key is the path parameter; `POST /v1/events` takes it as a bearer token.
EVENT_KEY: dict[tuple[str, str], list[JSON]] = {
    ("/e/{key}", "post"): [],
    ("/v1/events", "post"): [{"eventKey": []}],
}
TAGS = ("Runs", "Events", "Functions", "Operations", "Health", "Apps", "Audit", "Admin")


@functools.cache
def _generated(production: bool) -> tuple[JSON, JSON]:
    described = secured({**PATHS, **ADMIN}, PUBLIC, EVENT_KEY) if production else PATHS
    return generate(described)


def document(*, production: bool = False) -> JSON:
    """The document a dev server (default) or a production server serves (a fresh copy: callers
    such as schemathesis may change it)."""
    paths, schemas = copy.deepcopy(_generated(production))
    components: JSON = {"schemas": schemas}
    if production:
        components["securitySchemes"] = SECURITY_SCHEMES
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Mainspring REST API",
            "version": __version__,
            "description": "Operate Mainspring: runs, events, replays, pausing, the kill switch, "
            "health and metrics. JSON answers use a `{data, metadata}` envelope; bad input "
            "answers 400 with `field` naming the parameter.",
        },
        "tags": [{"name": name} for name in TAGS],
        "paths": paths,
        "components": components,
        **({"security": [{"apiToken": []}]} if production else {}),
    }
