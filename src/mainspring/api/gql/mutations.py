"""Mutations, each through the service its REST twin calls: `cancelRun` (DELETE /v1/runs/{id}),
`rerun` (POST /v2/runs/{id}/rerun), `invokeFunction` (POST /invoke/{slug}), `createApp`
(POST /v1/admin/apps), `deleteApp` / `deleteAppByName` (the registry and the app sync).

In production mode only an admin token or session may send them (`http.py`), as for REST.
"""

from __future__ import annotations

from typing import Any

import graphql

from mainspring import errors
from mainspring.api.gql import apps, shapes
from mainspring.api.gql.context import Info, bad_input, not_found, ulid_arg, uuid_arg
from mainspring.ingest.invoking import invoke_unit
from mainspring.registry.sync import normalize_url
from mainspring.store.base import Row


def _no_debug(**given: Any) -> None:
    for argument, value in given.items():
        if value is not None:
            raise bad_input(argument, "debug sessions are not supported")


async def resolve_cancel_run(_: None, info: Info, runID: str) -> Any:
    run_id = ulid_arg(runID, "runID")
    services = info.context.services
    if await services.operations.cancel_run(run_id) is None:
        raise not_found("run", "runID", run_id)
    run = await services.reads.run(run_id)
    assert run is not None
    return shapes.run_v1(run)


async def resolve_rerun(
    _: None,
    info: Info,
    runID: str,
    fromStep: dict[str, Any] | None = None,
    debugSessionID: str | None = None,
    debugRunID: str | None = None,
) -> Any:
    """The new run's id; from `fromStep.stepID`, the steps recorded before it are kept."""
    _no_debug(debugSessionID=debugSessionID, debugRunID=debugRunID)
    run_id = ulid_arg(runID, "runID")
    if fromStep is not None and fromStep.get("input") is not None:
        raise bad_input("fromStep.input", "a step's input cannot be replaced")
    step = None if fromStep is None else str(fromStep["stepID"])
    try:
        new_id = await info.context.services.operations.replays.rerun(run_id, step)
    except errors.NotFound as exc:  # the run's function is no longer synced
        raise bad_input("runID", exc.message) from None
    except errors.InvalidInput as exc:  # the REST body's `fromStep.stepId` is `stepID` here
        raise bad_input("fromStep.stepID", exc.message) from None
    if new_id is None:
        raise not_found("run", "runID", run_id)
    return new_id


async def resolve_invoke(
    _: None,
    info: Info,
    functionSlug: str,
    data: Any = None,
    user: Any = None,
    meta: Any = None,
    debugSessionID: str | None = None,
    debugRunID: str | None = None,
) -> Any:
    """Start a run of `functionSlug` now with `data`, whatever its triggers (cron too)."""
    _no_debug(debugSessionID=debugSessionID, debugRunID=debugRunID)
    if meta:
        raise bad_input("meta", "event metadata is not supported")
    for argument, value in (("data", data), ("user", user)):
        if value is not None and not isinstance(value, dict):
            raise bad_input(argument, "must be an object")
    services = info.context.services
    if await services.registry.find(functionSlug) is None:
        raise not_found("function", "functionSlug", functionSlug)
    try:
        unit = invoke_unit(functionSlug, data or {}, user, services.registry, services.clock())
        await services.ingest.run_unit(unit)
    except errors.InvalidInput as exc:  # too large, for one
        raise bad_input(f"data.{exc.field}" if exc.field else "data", exc.message) from None
    return True


async def resolve_create_app(_: None, info: Info, input: dict[str, Any]) -> Any:
    """Sync the app at `input.url` now (and keep it synced); the app it answered as."""
    sync = info.context.services.sync
    try:
        state = await sync.add_url(str(input["url"]))
    except errors.InvalidInput as exc:
        raise bad_input("input.url", exc.message) from None
    if state.error is not None:
        raise graphql.GraphQLError(
            f"input.url: the sync of {state.url} failed: {state.error}",
            extensions={"code": "SYNC_FAILED", "argument": "input.url"},
        )
    row = _synced_from(await info.context.services.reads.apps(), state.url)
    if row is None:
        raise not_found("app", "input.url", state.url)
    return apps.app_node(info, row)


def _synced_from(rows: list[Row], url: str) -> Row | None:
    """The app registered from `url`; else the one synced last (an SDK may report its URL
    another way than it was asked at, `localhost` for `127.0.0.1`)."""
    for row in rows:
        if normalize_url(str(row["url"])) == url:
            return row
    synced = [row for row in rows if row["synced_at"] is not None]
    return max(synced, key=lambda row: int(row["synced_at"]), default=None)


async def resolve_delete_app(_: None, info: Info, id: str) -> Any:
    app_id = uuid_arg(id, "id")
    if await info.context.services.sync.delete_app(app_id) is None:
        raise not_found("app", "id", app_id)
    return app_id


async def resolve_delete_app_by_name(_: None, info: Info, name: str) -> Any:
    """False when no app has that name (as Inngest answers)."""
    services = info.context.services
    for row in await services.reads.apps():
        if row["name"] == name:
            return await services.sync.delete_app(str(row["id"])) is not None
    return False
