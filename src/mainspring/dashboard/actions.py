"""The dashboard's state changes (POST under `/ui/...`): events, invoke, cancel, rerun, signals,
sync, pause/resume, kill switch, bulk replay, test alert; the services are the ones the REST API
uses.

Each answers an HTML fragment that htmx swaps in place (a result line or an inline error).
Validation errors are shown next to the form and answered 4xx (the layout's htmx config swaps
error answers too, so the message lands inline).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from mainspring import errors
from mainspring.api.body import read_limited
from mainspring.api.state import services
from mainspring.dashboard.render import page
from mainspring.domain.ids import new_ulid
from mainspring.ingest import signals
from mainspring.ingest.invoking import invoke_unit
from mainspring.operations import replays

MAX_FORM_BYTES = 1024 * 1024


def _notice(
    request: Request, message: str, *, ok: bool, status: int = 200, **extra: Any
) -> Response:
    context = {"message": message, "ok": ok, **extra}
    return page(request, "partials/notice.html", context, status)


def _json_field(text: str, field: str) -> Any:
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        raise errors.InvalidInput(
            f"{field}: not valid JSON (line {exc.lineno}, column {exc.colno}): {exc.msg}",
            field=field,
        ) from None


async def form_lists(request: Request) -> dict[str, list[str]]:
    """An url-encoded form (what htmx and plain forms send); no multipart dependency needed."""
    body = await read_limited(request, MAX_FORM_BYTES)
    return parse_qs(body.decode("utf-8", errors="replace"), keep_blank_values=True)


async def _form(request: Request) -> dict[str, str]:
    return {key: values[-1] for key, values in (await form_lists(request)).items()}


async def send_event(request: Request) -> Response:
    app = services(request)
    text = (await _form(request)).get("payload", "")
    try:
        payload = _json_field(text, "payload")
        raw = payload if isinstance(payload, list) else [payload]
        ids = await app.ingest.accept(raw, app.clock())
    except errors.InvalidInput as exc:
        where = f" (event {exc.index}, field {exc.field})" if exc.index is not None else ""
        return _notice(request, f"{exc.message}{where}", ok=False, status=400)
    await app.audit.record("event.send", details={"event_ids": ids})
    return _notice(request, f"Sent {len(ids)} event(s)", ok=True, event_ids=ids)


async def invoke(request: Request) -> Response:
    app = services(request)
    slug = request.path_params["function_id"]
    if app.registry.get(slug) is None:
        return _notice(request, f"unknown function {slug}", ok=False, status=404)
    text = (await _form(request)).get("data", "") or "{}"
    try:
        data = _json_field(text, "data")
        if not isinstance(data, dict):
            raise errors.InvalidInput("data must be a JSON object", field="data")
    except errors.InvalidInput as exc:
        return _notice(request, exc.message, ok=False, status=400)
    ids = await app.ingest.run_unit(invoke_unit(slug, data, None, app.registry, app.clock()))
    return _notice(request, f"Invoked {slug}", ok=True, event_ids=ids)


async def cancel_run(request: Request) -> Response:
    run_id = request.path_params["run_id"]
    status = await services(request).operations.cancel_run(run_id)
    if status is None:
        return _notice(request, "run not found", ok=False, status=404)
    return _notice(request, f"Run is {status}", ok=True)


async def rerun(request: Request) -> Response:
    """A new run of the same function with the same event(s); with `from_step`, the steps
    recorded before that step are kept and it and the later ones run again."""
    from_step = (await _form(request)).get("from_step", "").strip() or None
    try:
        new_id = await services(request).operations.replays.rerun(
            request.path_params["run_id"], from_step
        )
    except errors.InvalidInput as exc:
        return _notice(request, exc.message, ok=False, status=400)
    if new_id is None:
        return _notice(request, "run not found", ok=False, status=404)
    return _notice(request, "Started a new run", ok=True, run_ids=[new_id])


async def send_signal(request: Request) -> Response:
    """The run page's form: the signal its run waits for, with a JSON payload (human in the
    loop). Unlike `POST /v1/signals` it resumes only this run: not a newer run that took the
    name over (`onConflict: "replace"`)."""
    app = services(request)
    run_id = request.path_params["run_id"]
    form = await _form(request)
    try:
        data = _json_field(form.get("data", "") or "null", "data")
        signal = signals.parse({"signal": form.get("signal", ""), "data": data})
    except errors.InvalidInput as exc:
        return _notice(request, exc.message, ok=False, status=400)
    resumed = await app.ingest.run_unit(signals.resume_unit(signal, app.clock(), run_id))
    if resumed is None:
        message = (
            f"This run no longer waits for signal {signal.name!r} "
            "(resumed, timed out, or the name was taken over by another run)"
        )
        return _notice(request, message, ok=False, status=404)
    details = {"signal": signal.name}
    await app.audit.record("signal.send", target_kind="run", target_id=run_id, details=details)
    return _notice(request, f"Signal {signal.name!r} sent; resumed", ok=True, run_ids=[resumed])


def _who(form: dict[str, str]) -> dict[str, str | None]:
    return {
        "reason": form.get("reason", "").strip() or None,
        "requested_by": form.get("requested_by", "").strip() or None,
    }


def _pause_controls(
    request: Request, state: dict[str, Any], message: str, status: int = 200
) -> Response:
    context = {"pause": state, "slug": state["function_id"], "message": message}
    return page(request, "partials/pause_controls.html", context, status)


async def pause_function(request: Request) -> Response:
    slug = request.path_params["function_id"]
    pausing = services(request).operations.pausing
    try:
        state = await pausing.pause(slug, **_who(await _form(request)))
    except errors.NotFound:
        return _notice(request, f"unknown function {slug}", ok=False, status=404)
    return _pause_controls(request, state, "Paused: no new runs start and no SDK calls are made")


async def resume_function(request: Request) -> Response:
    slug = request.path_params["function_id"]
    skip = (await _form(request)).get("held_events") == "skip"
    pausing = services(request).operations.pausing
    try:
        result = await pausing.resume(slug, skip_held_events=skip)
    except errors.NotFound:
        return _notice(request, f"unknown function {slug}", ok=False, status=404)
    skipped = len(result["skipped_run_ids"])
    message = f"Resumed; {result['resumed']} held item(s) released, {skipped} run(s) skipped"
    return _pause_controls(request, await pausing.status(slug), message)


async def kill_switch_on(request: Request) -> Response:
    form = await _form(request)
    if not form.get("reason", "").strip():
        return _notice(request, "reason: say why the kill switch is needed", ok=False, status=400)
    state = await services(request).operations.kill_switch.activate(**_who(form))
    response = _notice(request, f"Kill switch active since {state['since']}", ok=True)
    response.headers["HX-Trigger"] = "ops-changed"  # the operations panel re-renders at once
    return response


async def kill_switch_off(request: Request) -> Response:
    skip = (await _form(request)).get("held_events") == "skip"
    result = await services(request).operations.kill_switch.deactivate(skip_held_events=skip)
    skipped = len(result["skipped_run_ids"])
    message = f"Kill switch released; {skipped} run(s) of events received meanwhile skipped"
    response = _notice(request, message, ok=True)
    response.headers["HX-Trigger"] = "ops-changed"
    return response


async def replay(request: Request) -> Response:
    """Bulk replay of the selected failed runs (one idempotency key per rendered form)."""
    form = await form_lists(request)
    run_ids = [run_id for run_id in form.get("run_id", []) if run_id]
    if not run_ids:
        return _notice(request, "run_id: select at least one run", ok=False, status=400)
    key = (form.get("idempotency_key") or [""])[-1] or None
    try:
        request_body = replays.parse_replay({"run_ids": run_ids})
        result = await services(request).operations.replays.replay(request_body, key)
    except errors.InvalidInput as exc:  # unknown runs (400); the key reused for another set (409)
        return _notice(request, exc.message, ok=False, status=exc.status)
    message = f"Replay {result['replay_id']} started {len(result['run_ids'])} new run(s)"
    response = _notice(request, message, ok=True, run_ids=result["run_ids"])
    response.headers["HX-Trigger"] = "ops-changed"
    return response


async def test_alert(request: Request) -> Response:
    """The "Send test alert" button: every configured channel, or the one chosen."""
    channel = (await _form(request)).get("channel") or None
    try:
        results = await services(request).operations.alerts.send_test(channel)
    except errors.InvalidInput as exc:
        return _notice(request, f"channel: {exc.message}", ok=False, status=400)
    failed = [f"{r['channel']} ({r['error']})" for r in results if not r["ok"]]
    sent = [r["channel"] for r in results if r["ok"]]
    if failed:
        message = f"Test alert not delivered to {', '.join(failed)}"
        if sent:
            message += f"; delivered to {', '.join(sent)}"
        return _notice(request, message, ok=False, status=502)
    return _notice(request, f"Test alert delivered to {', '.join(sent)}", ok=True)


async def sync_app(request: Request) -> Response:
    sync = services(request).sync
    url = (await _form(request)).get("url", "").strip()
    if not url:
        return _notice(request, "url: enter the app's serve URL", ok=False, status=400)
    try:  # the checks of `POST /v1/admin/apps`: nothing unusable is kept for re-syncing
        state = await sync.add_url(url)
    except errors.InvalidInput as exc:
        return _notice(request, f"url: {exc.message}", ok=False, status=400)
    if state.error:
        return _notice(request, f"Sync of {state.url} failed: {state.error}", ok=False, status=502)
    return _notice(request, f"Synced {state.url}", ok=True)


async def function_controls(request: Request, slug: str) -> dict[str, Any]:
    """The function's pause state for its page."""
    return {"pause": await services(request).operations.pausing.status(slug)}


async def operations_controls(request: Request) -> dict[str, Any]:
    """Kill switch state, alert channels and a fresh idempotency key for the replay form."""
    operations = services(request).operations
    return {
        "kill_switch": await operations.kill_switch.state(),
        "alert_channels": [
            {"name": c.name, "throttle_ms": c.throttle_ms} for c in operations.alerts.channels
        ],
        "replay_enabled": True,
        "idempotency_key": new_ulid(),
    }


routes: list[BaseRoute] = [
    Route("/ui/events/send", send_event, methods=["POST"]),
    Route("/ui/functions/{function_id}/invoke", invoke, methods=["POST"]),
    Route("/ui/runs/{run_id}/cancel", cancel_run, methods=["POST"]),
    Route("/ui/runs/{run_id}/rerun", rerun, methods=["POST"]),
    Route("/ui/runs/{run_id}/signal", send_signal, methods=["POST"]),
    Route("/ui/functions/{function_id}/pause", pause_function, methods=["POST"]),
    Route("/ui/functions/{function_id}/resume", resume_function, methods=["POST"]),
    Route("/ui/operations/kill-switch/on", kill_switch_on, methods=["POST"]),
    Route("/ui/operations/kill-switch/off", kill_switch_off, methods=["POST"]),
    Route("/ui/operations/replay", replay, methods=["POST"]),
    Route("/ui/operations/alerts/test", test_alert, methods=["POST"]),
    Route("/ui/apps/sync", sync_app, methods=["POST"]),
]
