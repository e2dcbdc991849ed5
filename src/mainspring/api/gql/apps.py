"""Apps and functions: `apps`, `app`, `functions`, `functionBySlug`, from the registry (synced
functions, in memory) and the apps the store keeps; `Function.configuration` from the flow
control the SDK synced."""

from __future__ import annotations

from typing import Any

from mainspring import codec
from mainspring.api.gql.context import Info, not_found, uuid_arg
from mainspring.domain.functions import DEFAULT_RETRIES, FunctionDef
from mainspring.reads.views import sdk_parts
from mainspring.store.base import Row

FAILURE_SUFFIX = "-failure"  # an onFailure handler's slug: `<slug>-failure`
_SCOPES = {"fn": "FUNCTION", "env": "ENVIRONMENT", "account": "ACCOUNT"}


def app_node(info: Info, row: Row) -> dict[str, Any]:
    sync = info.context.services.sync
    state = sync.urls.get(str(row["url"]))
    error = row["error"] or (state.error if state is not None else None)
    sdk = sdk_parts(row["sdk"])
    # a Connect app (its workers dial in) is connected while some process holds a worker of it
    dialled_in = info.context.services.connect.connected(str(row["url"]))
    return {
        "id": row["id"],
        "externalID": row["name"],
        "name": row["name"],
        "sdkLanguage": sdk["sdk_language"] or "",
        "sdkVersion": sdk["sdk_version"] or "",
        "framework": row["framework"],
        "url": row["url"],
        "checksum": row["checksum"],
        "error": error,
        "method": "SERVE" if dialled_in is None else "CONNECT",
        "appVersion": None,
        "sdkFeatureReadiness": {"aiMetadataExtraction": None, "extendedTraces": None},
        "connected": error is None if dialled_in is None else dialled_in,
        "autodiscovered": state is not None and state.discovered,
    }


def unknown_app(app_id: str) -> dict[str, Any]:
    """The app of a run whose function was never synced here (its record is gone)."""
    return {
        "id": app_id,
        "externalID": "",
        "name": "",
        "sdkLanguage": "",
        "sdkVersion": "",
        "method": "SERVE",
        "sdkFeatureReadiness": {},
        "connected": False,
        "autodiscovered": False,
        "functions": [],
        "functionCount": 0,
    }


def _functions_of(info: Info, app: dict[str, Any]) -> list[FunctionDef]:
    return [f for f in info.context.services.registry.functions() if f.app_id == app["id"]]


def resolve_app_functions(app: dict[str, Any], info: Info) -> Any:
    if "functions" in app:
        return app["functions"]
    return [function_node(function) for function in _functions_of(info, app)]


def resolve_function_count(app: dict[str, Any], info: Info) -> Any:
    return app.get("functionCount", len(_functions_of(info, app)))


async def resolve_apps(_: None, info: Info, filter: dict[str, Any] | None = None) -> Any:
    method = (filter or {}).get("method")
    nodes = [app_node(info, row) for row in (await info.context.apps()).values()]
    return [node for node in nodes if method is None or node["method"] == method]


async def resolve_app(_: None, info: Info, id: str) -> Any:
    app_id = uuid_arg(id, "id")
    row = (await info.context.apps()).get(app_id)
    if row is None:
        raise not_found("app", "id", app_id)
    return app_node(info, row)


def _trigger(trigger: Any) -> dict[str, Any]:
    if trigger.cron:
        return {"type": "CRON", "value": trigger.cron, "condition": None}
    return {"type": "EVENT", "value": trigger.event or "", "condition": trigger.expression}


def function_node(function: FunctionDef) -> dict[str, Any]:
    own = [c.limit for c in function.flow.concurrency if c.scope == "fn" and c.key is None]
    return {
        "id": function.id,
        "name": function.name,
        "slug": function.slug,
        "config": codec.dumps(function.config),
        "configuration": configuration(function),
        "concurrency": own[0] if own else 0,
        "triggers": [_trigger(trigger) for trigger in function.triggers],
        "url": function.url,
        "appID": function.app_id,
    }


def unknown_function(slug: str) -> dict[str, Any]:
    """The function of a run whose function was never synced here (its record is gone)."""
    return {
        "id": slug,
        "name": slug,
        "slug": slug,
        "config": "{}",
        "configuration": configuration(None),
        "concurrency": 0,
        "triggers": [],
        "url": "",
        "appID": "",
    }


def _text(config: dict[str, Any], key: str, field: str) -> str | None:
    part = config.get(key)
    value = part.get(field) if isinstance(part, dict) else None
    return None if value is None else str(value)


def configuration(function: FunctionDef | None) -> dict[str, Any]:
    """`FunctionConfiguration`: limits from the parsed flow control, periods as synced."""
    if function is None:
        return {"cancellations": [], "retries": {"value": DEFAULT_RETRIES}, "concurrency": []}
    return {
        "cancellations": [
            {"event": r.event, "timeout": _ms_text(r.timeout_ms), "condition": r.expression}
            for r in function.cancel
        ],
        "retries": {"value": function.retries, "isDefault": _retries_default(function.config)},
        "priority": _text(function.config, "priority", "run"),
        "concurrency": [
            {
                "scope": _SCOPES.get(limit.scope, "FUNCTION"),
                "limit": {"value": limit.limit, "isPlanLimit": False},
                "key": limit.key,
            }
            for limit in function.flow.concurrency
        ],
        **_windows(function),
    }


def _windows(function: FunctionDef) -> dict[str, Any]:
    """Batching, rate limit, debounce, throttle and singleton (each null when not set)."""
    flow, config = function.flow, function.config

    def period(key: str, ms: int) -> str:
        return _text(config, key, "period") or f"{ms}ms"

    batch, rate, debounce, throttle = flow.batch, flow.rate_limit, flow.debounce, flow.throttle
    return {
        "eventsBatch": None
        if batch is None
        else {
            "maxSize": batch.max_size,
            "timeout": _text(config, "batchEvents", "timeout") or f"{batch.timeout_ms}ms",
            "key": batch.key,
        },
        "rateLimit": None
        if rate is None
        else {"limit": rate.limit, "period": period("rateLimit", rate.period_ms), "key": rate.key},
        "debounce": None
        if debounce is None
        else {"period": period("debounce", debounce.period_ms), "key": debounce.key},
        "throttle": None
        if throttle is None
        else {
            "limit": throttle.limit,
            "burst": throttle.burst,
            "period": period("throttle", throttle.period_ms),
            "key": throttle.key,
        },
        "singleton": None
        if flow.singleton is None
        else {"mode": flow.singleton.mode.upper(), "key": flow.singleton.key},
    }


def _ms_text(ms: int | None) -> str | None:
    return None if ms is None else f"{ms}ms"


def _retries_default(config: dict[str, Any]) -> bool:
    steps = config.get("steps")
    step: Any = next(iter(steps.values()), {}) if isinstance(steps, dict) and steps else {}
    explicit = isinstance(step, dict) and step.get("retries") is not None
    return not explicit and config.get("retries") is None


async def resolve_functions(_: None, info: Info) -> Any:
    return [function_node(f) for f in info.context.services.registry.functions()]


async def resolve_function_by_slug(_: None, info: Info, query: dict[str, Any]) -> Any:
    slug = str(query["functionSlug"])
    function = info.context.services.registry.get(slug)
    if function is None:
        raise not_found("function", "query.functionSlug", slug)
    return function_node(function)


async def resolve_function_app(function: dict[str, Any], info: Info) -> Any:
    row = await info.context.app(str(function["appID"])) if function["appID"] else None
    return unknown_app(str(function["appID"])) if row is None else app_node(info, row)


def resolve_failure_handler(function: dict[str, Any], info: Info) -> Any:
    handler = info.context.services.registry.get(f"{function['slug']}{FAILURE_SUFFIX}")
    return None if handler is None else function_node(handler)
