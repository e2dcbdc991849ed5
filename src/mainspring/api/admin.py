"""Operations over HTTP: kill switch, pause / resume, rerun, cancel (v2), bulk replays.

Thin: each handler validates its input and calls `services.operations` (the same functions the
dashboard's buttons call).
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from mainspring import errors
from mainspring.api import auth_envs, kill_switches
from mainspring.api.body import read_json
from mainspring.api.errors import invalid_input, not_found
from mainspring.api.rest import envelope
from mainspring.api.state import env_name, environments, services
from mainspring.operations import replays


async def json_body(request: Request) -> dict[str, Any]:
    """The body as a JSON object; an empty body is `{}`."""
    body = await read_json(request, services(request).settings.max_body_bytes, empty={})
    if not isinstance(body, dict):
        raise errors.InvalidInput("the body must be a JSON object", field="body")
    return body


def optional_text(body: dict[str, Any], key: str, max_length: int = 1000) -> str | None:
    value = body.get(key)
    if value is None:
        return None
    if not isinstance(value, str) or len(value) > max_length:
        message = f"{key} must be a string of at most {max_length} characters"
        raise errors.InvalidInput(message, field=key)
    return value


def flag(body: dict[str, Any], key: str) -> bool:
    value = body.get(key, False)
    if not isinstance(value, bool):
        raise errors.InvalidInput(f"{key} must be true or false", field=key)
    return value


async def kill_switch_state(request: Request) -> Response:
    state = await services(request).operations.kill_switch.state()
    every = environments(request)
    if every.config.enabled:  # the switch of all environments at once, beside this one's
        state = {**state, "all_environments": await kill_switches.global_state(every)}
    return envelope(request, state)


async def kill_switch_on(request: Request) -> Response:
    """The request's environment's switch; `all_environments: true` flips every one."""
    body = await json_body(request)
    reason, by = optional_text(body, "reason"), optional_text(body, "requested_by")
    if flag(body, "all_environments"):
        if (denied := auth_envs.require_all(request)) is not None:
            return denied
        every = environments(request)
        state = await kill_switches.activate_all(every, env_name(request), reason, by)
        return envelope(request, state)
    state = await services(request).operations.kill_switch.activate(reason=reason, requested_by=by)
    return envelope(request, state)


async def kill_switch_off(request: Request) -> Response:
    body = await json_body(request)
    skip = flag(body, "skip_held_events")
    if flag(body, "all_environments"):
        if (denied := auth_envs.require_all(request)) is not None:
            return denied
        every = environments(request)
        current = env_name(request)
        state = await kill_switches.deactivate_all(every, current, skip_held_events=skip)
        return envelope(request, state)
    state = await services(request).operations.kill_switch.deactivate(skip_held_events=skip)
    return envelope(request, state)


async def function_pause_state(request: Request) -> Response:
    slug = request.path_params["function_id"]
    try:
        state = await services(request).operations.pausing.status(slug)
    except errors.NotFound as exc:
        return not_found(exc.message)
    return envelope(request, state)


async def pause_function(request: Request) -> Response:
    body = await json_body(request)
    slug = request.path_params["function_id"]
    try:
        state = await services(request).operations.pausing.pause(
            slug,
            reason=optional_text(body, "reason"),
            requested_by=optional_text(body, "requested_by"),
        )
    except errors.NotFound as exc:
        return not_found(exc.message)
    return envelope(request, state)


async def resume_function(request: Request) -> Response:
    body = await json_body(request)
    slug = request.path_params["function_id"]
    skip = flag(body, "skip_held_events")
    try:
        state = await services(request).operations.pausing.resume(slug, skip_held_events=skip)
    except errors.NotFound as exc:
        return not_found(exc.message)
    return envelope(request, state)


async def list_paused(request: Request) -> Response:
    return envelope(request, await services(request).operations.pausing.list_paused())


async def rerun(request: Request) -> Response:
    """Rerun from the start, or with `{"fromStep": {"stepId"}}` from that step."""
    run_id = request.path_params["run_id"]
    try:
        body = await read_json(request, services(request).settings.max_body_bytes, empty=None)
        from_step = replays.parse_from_step(body)
        new_id = await services(request).operations.replays.rerun(run_id, from_step)
    except errors.NotFound as exc:
        return not_found(exc.message)
    except errors.InvalidInput as exc:
        return invalid_input(exc)
    if new_id is None:
        return not_found("run not found")
    response = envelope(request, {"run_id": new_id, "original_run_id": run_id})
    response.status_code = 201
    return response


async def cancel(request: Request) -> Response:
    run_id = request.path_params["run_id"]
    status = await services(request).operations.cancel_run(run_id)
    if status is None:
        return not_found("run not found")
    return envelope(request, {"run_id": run_id, "status": status})


async def replay(request: Request) -> Response:
    body = await json_body(request)
    parsed = replays.parse_replay(body)
    key = request.headers.get("idempotency-key")
    try:
        result = await services(request).operations.replays.replay(parsed, key or None)
    except errors.NotFound as exc:
        return invalid_input(errors.InvalidInput(exc.message, field="run_ids"))
    response = envelope(request, result)
    response.status_code = 201
    return response


routes = [
    Route("/v1/kill-switch", kill_switch_state, methods=["GET"]),
    Route("/v1/kill-switch", kill_switch_on, methods=["POST"]),
    Route("/v1/kill-switch", kill_switch_off, methods=["DELETE"]),
    Route("/v1/functions/paused", list_paused, methods=["GET"]),
    Route("/v1/functions/{function_id}/pause", function_pause_state, methods=["GET"]),
    Route("/v1/functions/{function_id}/pause", pause_function, methods=["POST"]),
    Route("/v1/functions/{function_id}/resume", resume_function, methods=["POST"]),
    Route("/v1/runs/{run_id}/rerun", rerun, methods=["POST"]),
    Route("/v2/runs/{run_id}/rerun", rerun, methods=["POST"]),
    Route("/v2/runs/{run_id}/cancel", cancel, methods=["POST"]),
    Route("/v1/replays", replay, methods=["POST"]),
]
