"""Parse and validate a function's flow-control fields (§6); errors name the field at fault."""

from __future__ import annotations

from typing import Any

from mainspring import errors, expressions
from mainspring.domain.durations import parse_duration_ms
from mainspring.domain.flow import (
    Batch,
    ConcurrencyLimit,
    Debounce,
    FlowConfig,
    FlowOverrides,
    RateLimit,
    Singleton,
    Throttle,
)

MAX_CONCURRENCY_LIMITS = 2
SCOPES = ("fn", "env", "account")
DAY_MS = 24 * 3600 * 1000
SECOND_MS = 1000
MAX_DEBOUNCE_MS = 7 * DAY_MS


def _fail(field: str, message: str) -> errors.InvalidFunctionConfig:
    return errors.InvalidFunctionConfig(f"{field}: {message}", field=field)


def _object(value: Any, field: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise _fail(field, "must be an object")
    return value


def _int(value: Any, field: str, *, minimum: int, default: int | None = None) -> int:
    if value is None and default is not None:
        return default
    if isinstance(value, bool) or not isinstance(value, int):
        raise _fail(field, "must be an integer")
    if value < minimum:
        raise _fail(field, f"must be at least {minimum}")
    return value


def _duration(value: Any, field: str, *, minimum: int, maximum: int | None = None) -> int:
    if not isinstance(value, str):
        raise _fail(field, "must be a duration string such as '10s'")
    try:
        ms = parse_duration_ms(value)
    except ValueError as exc:
        raise _fail(field, str(exc)) from None
    if ms < minimum:
        raise _fail(field, f"must be at least {minimum} ms")
    if maximum is not None and ms > maximum:
        raise _fail(field, f"must be at most {maximum} ms")
    return ms


def _expression(value: Any, field: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        raise _fail(field, "must be a CEL expression string")
    try:
        expressions.compile_expression(value)
    except errors.InvalidInput as exc:
        raise _fail(field, exc.message) from None
    return value


def _concurrency(value: Any, field: str) -> tuple[ConcurrencyLimit, ...]:
    if value is None:
        return ()
    if isinstance(value, dict) and ("fn" in value or "step" in value):
        value, field = value.get("fn") or [], f"{field}.fn"  # newer shape; step limits ignored
    items = value if isinstance(value, list) else [value]
    if len(items) > MAX_CONCURRENCY_LIMITS:
        raise _fail(field, f"at most {MAX_CONCURRENCY_LIMITS} concurrency limits per function")
    limits = []
    for position, item in enumerate(items):
        where = f"{field}.{position}" if isinstance(value, list) else field
        if isinstance(item, int) and not isinstance(item, bool):
            item = {"limit": item}
        item = _object(item, where)
        limit = _int(item.get("limit"), f"{where}.limit", minimum=0)
        scope = item.get("scope") or "fn"
        if scope not in SCOPES:
            raise _fail(f"{where}.scope", f"must be one of {', '.join(SCOPES)}")
        key = _expression(item.get("key"), f"{where}.key")
        if scope != "fn" and key is None:
            raise _fail(f"{where}.key", f"scope {scope!r} needs a key")
        if limit > 0:  # limit 0 means unlimited
            limits.append(ConcurrencyLimit(limit=limit, key=key, scope=scope))
    return tuple(limits)


def _throttle(value: Any, field: str) -> Throttle | None:
    if value is None:
        return None
    item = _object(value, field)
    return Throttle(
        limit=max(1, _int(item.get("limit"), f"{field}.limit", minimum=0)),
        period_ms=_duration(item.get("period"), f"{field}.period", minimum=SECOND_MS),
        burst=_int(item.get("burst"), f"{field}.burst", minimum=1, default=1),
        key=_expression(item.get("key"), f"{field}.key"),
    )


def _rate_limit(value: Any, field: str) -> RateLimit | None:
    if value is None:
        return None
    item = _object(value, field)
    return RateLimit(
        limit=_int(item.get("limit"), f"{field}.limit", minimum=1),
        period_ms=_duration(item.get("period"), f"{field}.period", minimum=1, maximum=DAY_MS),
        key=_expression(item.get("key"), f"{field}.key"),
    )


def _singleton(value: Any, field: str) -> Singleton | None:
    if value is None:
        return None
    item = _object(value, field)
    mode = item.get("mode")
    if mode not in ("skip", "cancel"):
        raise _fail(f"{field}.mode", "must be 'skip' or 'cancel'")
    return Singleton(mode=mode, key=_expression(item.get("key"), f"{field}.key"))


def _debounce(value: Any, field: str) -> Debounce | None:
    if value is None:
        return None
    item = _object(value, field)
    period = _duration(
        item.get("period"), f"{field}.period", minimum=SECOND_MS, maximum=MAX_DEBOUNCE_MS
    )
    timeout = None
    if item.get("timeout") is not None:
        timeout = _duration(item.get("timeout"), f"{field}.timeout", minimum=SECOND_MS)
    return Debounce(period, _expression(item.get("key"), f"{field}.key"), timeout)


def _batch(value: Any, field: str) -> Batch | None:
    if value is None:
        return None
    item = _object(value, field)
    return Batch(
        max_size=_int(item.get("maxSize"), f"{field}.maxSize", minimum=2),
        timeout_ms=_duration(item.get("timeout"), f"{field}.timeout", minimum=SECOND_MS),
        key=_expression(item.get("key"), f"{field}.key"),
        condition=_expression(item.get("if"), f"{field}.if"),
    )


def _priority(value: Any, field: str) -> str | None:
    if value is None:
        return None
    return _expression(_object(value, field).get("run"), f"{field}.run")


def parse(config: dict[str, Any], where: str = "") -> FlowConfig:
    """The flow settings of one function config (`where` prefixes field names in errors)."""
    prefix = f"{where}." if where else ""
    return FlowConfig(
        concurrency=_concurrency(config.get("concurrency"), f"{prefix}concurrency"),
        throttle=_throttle(config.get("throttle"), f"{prefix}throttle"),
        rate_limit=_rate_limit(config.get("rateLimit"), f"{prefix}rateLimit"),
        idempotency=_expression(config.get("idempotency"), f"{prefix}idempotency"),
        singleton=_singleton(config.get("singleton"), f"{prefix}singleton"),
        debounce=_debounce(config.get("debounce"), f"{prefix}debounce"),
        batch=_batch(config.get("batchEvents"), f"{prefix}batchEvents"),
        priority=_priority(config.get("priority"), f"{prefix}priority"),
    )


OVERRIDE_FIELDS = ("concurrency", "throttle", "rateLimit", "priority")


def parse_overrides(body: Any) -> FlowOverrides:
    """An override body (`PUT /v1/functions/{id}/overrides`), in the SDK's shapes; a throttle or
    rate limit override keeps the synced key, so it takes none. Errors name the field."""
    body = _object(body, "body")
    for name in body:
        if name not in OVERRIDE_FIELDS:
            raise _fail(name, f"unknown override; one of {', '.join(OVERRIDE_FIELDS)}")
    for name in ("throttle", "rateLimit"):
        if isinstance(body.get(name), dict) and "key" in body[name]:
            raise _fail(f"{name}.key", "an override keeps the synced key")
    concurrency = body.get("concurrency")
    return FlowOverrides(
        concurrency=None if concurrency is None else _int(concurrency, "concurrency", minimum=1),
        throttle=_throttle(body.get("throttle"), "throttle"),
        rate_limit=_rate_limit(body.get("rateLimit"), "rateLimit"),
        priority=_priority(body.get("priority"), "priority"),
    )


def dump_overrides(overrides: FlowOverrides) -> dict[str, Any]:
    """The stored and answered shape: what `parse_overrides` reads back (unset fields left out)."""
    shape: dict[str, Any] = {}
    if overrides.concurrency is not None:
        shape["concurrency"] = overrides.concurrency
    if overrides.throttle is not None:
        rule = overrides.throttle
        period = _period(rule.period_ms)
        shape["throttle"] = {"limit": rule.limit, "period": period, "burst": rule.burst}
    if overrides.rate_limit is not None:
        limit = overrides.rate_limit
        shape["rateLimit"] = {"limit": limit.limit, "period": _period(limit.period_ms)}
    if overrides.priority is not None:
        shape["priority"] = {"run": overrides.priority}
    return shape


def _period(ms: int) -> str:
    return f"{ms // 1000}s" if ms % 1000 == 0 else f"{ms}ms"
