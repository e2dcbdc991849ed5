"""Apps and functions: sync (validate, diff, persist) and the in-memory trigger index."""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Awaitable, Callable
from typing import Any

from mainspring import audit, codec, errors, expressions, limits
from mainspring.domain import cron
from mainspring.domain.durations import parse_duration_ms
from mainspring.domain.functions import (
    DEFAULT_RETRIES,
    MAX_RETRIES,
    CancelRule,
    FunctionDef,
    Trigger,
)
from mainspring.flow import overrides as flow_overrides
from mainspring.protocol import wire
from mainspring.protocol.endpoints import Endpoint
from mainspring.registry import endpoints, flow_config, overrides
from mainspring.store.base import Connector, Row, Tx
from mainspring.store.repos import apps as apps_repo

# Telemetry and deploy ids change on every deploy without changing what runs.
_CHECKSUM_IGNORED = {"featureobservations", "deployid"}


def _checksum(body: dict[str, Any]) -> str:
    kept = {key: value for key, value in body.items() if key.lower() not in _CHECKSUM_IGNORED}
    return hashlib.sha256(codec.dumpb(_sorted(kept))).hexdigest()


def _sorted(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _sorted(value[key]) for key in sorted(value)}
    if isinstance(value, list):
        return [_sorted(item) for item in value]
    return value


def _check_expression(expression: str | None, field: str) -> None:
    if expression:
        try:
            expressions.compile_expression(expression)
        except errors.InvalidInput as exc:
            raise errors.InvalidFunctionConfig(exc.message, field=field) from None


def _check(parse: Any, text: str | None, field: str) -> None:
    if text:
        try:
            parse(text)
        except ValueError as exc:
            raise errors.InvalidFunctionConfig(f"{text!r}: {exc}", field=field) from None


def _validate_function(index: int, function: wire.FunctionConfig) -> None:
    where = f"functions.{index}"
    for position, trigger in enumerate(function.triggers):
        _check_expression(trigger.expression, f"{where}.triggers.{position}.expression")
        _check(cron.parse, trigger.cron, f"{where}.triggers.{position}.cron")
        _check(parse_duration_ms, trigger.jitter, f"{where}.triggers.{position}.jitter")
    for position, rule in enumerate(function.cancel or []):
        _check_expression(rule.if_expression, f"{where}.cancel.{position}.if")
        _check(parse_duration_ms, rule.timeout, f"{where}.cancel.{position}.timeout")
    if function.timeouts is not None:
        _check(parse_duration_ms, function.timeouts.start, f"{where}.timeouts.start")
        _check(parse_duration_ms, function.timeouts.finish, f"{where}.timeouts.finish")
    flow_config.parse(function.model_dump(by_alias=True, exclude_none=True), where)


def _retries(function: wire.FunctionConfig) -> int:
    step = function.steps.get("step") or next(iter(function.steps.values()))
    if step.retries is not None:
        retries = step.retries.attempts
    elif function.retries is not None:
        retries = function.retries
    else:
        retries = DEFAULT_RETRIES
    return max(0, min(retries, MAX_RETRIES))


def _ms(text: str | None) -> int | None:
    return parse_duration_ms(text) if text else None


def function_from_row(row: Any) -> FunctionDef:
    raw = codec.loads(row["config"])
    if endpoints.is_endpoint(raw):
        return endpoints.function_of(row, raw)
    config = wire.FunctionConfig.model_validate(raw)
    step = config.steps.get("step") or next(iter(config.steps.values()))
    timeouts = config.timeouts or wire.TimeoutsConfig()
    dumped = config.model_dump(by_alias=True, exclude_none=True)
    live = overrides.from_row(row)
    return FunctionDef(
        id=row["id"],
        app_id=row["app_id"],
        slug=row["slug"],
        name=row["name"],
        url=step.runtime.url,
        triggers=tuple(
            Trigger(
                event=t.event,
                expression=t.expression,
                cron=t.cron,
                jitter_ms=min(_ms(t.jitter) or 0, cron.MAX_JITTER_MS),
            )
            for t in config.triggers
        ),
        retries=_retries(config),
        cancel=tuple(
            CancelRule(rule.event, rule.if_expression, _ms(rule.timeout))
            for rule in config.cancel or []
        ),
        start_timeout_ms=_ms(timeouts.start),
        finish_timeout_ms=_ms(timeouts.finish),
        flow=flow_overrides.effective(flow_config.parse(dumped), live),
        config=dumped,
        overrides=live,
    )


class Registry:
    """Knows every active function; answers "which functions does this event start?"."""

    def __init__(self, connector: Connector) -> None:
        self._connector = connector
        self._by_slug: dict[str, FunctionDef] = {}
        self._by_event: dict[str, list[tuple[FunctionDef, Trigger]]] = {}
        self._wildcards: list[tuple[FunctionDef, Trigger]] = []
        self._listeners: list[Callable[[list[FunctionDef]], Awaitable[None]]] = []

    def on_change(self, listener: Callable[[list[FunctionDef]], Awaitable[None]]) -> None:
        """Called with the active functions after every load (start-up and changed syncs)."""
        self._listeners.append(listener)

    async def load(self) -> None:
        rows = await self._connector.read(apps_repo.list_active_functions)
        functions = [function_from_row(row) for row in rows]
        self._index(functions)
        for listener in self._listeners:
            await listener(functions)

    def _index(self, functions: list[FunctionDef]) -> None:
        by_event: dict[str, list[tuple[FunctionDef, Trigger]]] = defaultdict(list)
        wildcards = []
        for function in functions:
            for trigger in function.triggers:
                if trigger.event is None:
                    continue
                if trigger.event.endswith("*"):
                    wildcards.append((function, trigger))
                else:
                    by_event[trigger.event].append((function, trigger))
        self._by_slug = {function.slug: function for function in functions}
        self._by_event = dict(by_event)
        self._wildcards = wildcards

    def get(self, slug: str) -> FunctionDef | None:
        return self._by_slug.get(slug)

    async def find(self, slug: str) -> FunctionDef | None:
        """`get`, with a miss checked against the store: another process may have synced the
        function a moment ago, before its notification reached this one."""
        function = self._by_slug.get(slug)
        if function is None:
            await self.load()
            function = self._by_slug.get(slug)
        return function

    def functions(self) -> list[FunctionDef]:
        return list(self._by_slug.values())

    def match(self, event: dict[str, Any]) -> list[FunctionDef]:
        """Functions an event starts: trigger name, then the trigger's CEL filter. Once each."""
        name = event["name"]
        candidates = self._by_event.get(name, [])
        if self._wildcards:
            candidates = candidates + [
                pair for pair in self._wildcards if pair[1].matches_name(name)
            ]
        started: dict[str, FunctionDef] = {}
        for function, trigger in candidates:
            if function.slug in started:
                continue
            if trigger.expression and not expressions.evaluate_bool(
                trigger.expression, {"event": event}
            ):
                continue
            started[function.slug] = function
        return list(started.values())

    async def ensure_endpoint(
        self, endpoint: Endpoint, retries: int | None, now: int
    ) -> FunctionDef:
        """The function of a durable endpoint, recorded (or its config updated) when new."""
        config = endpoints.config_of(endpoint, retries)
        known = self._by_slug.get(endpoint.slug)
        if known is not None and known.config == config:
            return known
        await self._connector.write(
            lambda tx: apps_repo.upsert_endpoint(
                tx,
                app_name=endpoint.domain,
                slug=endpoint.slug,
                name=endpoint.name,
                config_json=codec.dumps(config),
                now=now,
            )
        )
        await self.load()
        function = self._by_slug.get(endpoint.slug)
        if function is None:  # archived by a sync of an app of the same name meanwhile
            raise errors.InvalidInput(f"endpoint {endpoint.slug} could not be recorded")
        return function

    async def register(self, body: Any, now: int) -> apps_repo.SyncResult:
        """Validate and persist a sync payload; raises InvalidFunctionConfig naming the field."""
        if not isinstance(body, dict):
            raise errors.InvalidFunctionConfig("the body must be a JSON object")
        limits.check_register(body)
        request = wire.parse_register(body)
        for index, function in enumerate(request.functions):
            _validate_function(index, function)
        synced = [
            apps_repo.SyncedFunction(
                slug=function.id,
                name=function.name or function.id,
                config_json=codec.dumps(function.model_dump(by_alias=True, exclude_none=True)),
            )
            for function in request.functions
        ]
        checksum = _checksum(body)
        actor = audit.current()

        def unit(tx: Tx) -> apps_repo.SyncResult:
            result = apps_repo.sync_app(
                tx,
                name=request.app_name,
                url=request.url,
                sdk=request.sdk,
                framework=request.framework,
                checksum=checksum,
                functions=synced,
                now=now,
            )
            if result.modified:  # periodic re-syncs that change nothing are not recorded
                details = {
                    "name": request.app_name,
                    "url": request.url,
                    "functions": [function.slug for function in synced],
                }
                audit.record(
                    tx,
                    actor,
                    "app.synced",
                    at=now,
                    target_kind="app",
                    target_id=result.app_id,
                    details=details,
                )
            return result

        result = await self._connector.write(unit)
        if result.modified:
            await self.load()
        return result

    async def set_overrides(
        self, slug: str, body: Any, now: int, updated_by: str | None = None
    ) -> FunctionDef:
        """Replace the function's live overrides with `body` (`{}` clears them); effective at
        once here, in other processes on their registry notification (registry/overrides.py)."""
        function = await self.find(slug)
        if function is None:
            raise errors.NotFound(f"function {slug} not found")
        new = flow_config.parse_overrides(body)
        if new.concurrency is not None and not flow_overrides.has_room(
            flow_config.parse(function.config).concurrency
        ):
            raise errors.InvalidInput(
                "the function has no concurrency limit of its own and already two shared "
                "(env/account) ones; a queue item carries at most two, so an override would "
                "drop one",
                field="concurrency",
            )
        actor = audit.current()
        await overrides.write(self._connector, function, new, updated_by or actor, now, actor)
        await self.load()
        changed = self._by_slug.get(slug)
        if changed is None:  # archived by a sync meanwhile
            raise errors.NotFound(f"function {slug} not found")
        return changed

    async def delete_app(self, app_id: str, now: int) -> Row | None:
        """Archive an app and its functions (GraphQL `deleteApp`); the app as it was, or None
        when there is no such app or it was deleted before. A later sync brings it back."""
        actor = audit.current()

        def unit(tx: Tx) -> Row | None:
            app = apps_repo.get_app(tx, app_id)
            if app is None or not apps_repo.archive_app(tx, app_id, now):
                return None
            details = {"name": app["name"], "url": app["url"]}
            audit.record(
                tx,
                actor,
                "app.delete",
                at=now,
                target_kind="app",
                target_id=app_id,
                details=details,
            )
            return app

        app = await self._connector.write(unit)
        if app is not None:
            await self.load()
        return app
