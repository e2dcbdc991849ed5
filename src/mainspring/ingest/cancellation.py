"""Cancelling runs from outside: one run by id, or in bulk by function and time window."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from mainspring import audit, errors, expressions
from mainspring.clock import Clock
from mainspring.domain.durations import parse_instant_ms, rfc3339
from mainspring.domain.ids import new_ulid
from mainspring.ingest import accept
from mainspring.runs.transitions import Effects
from mainspring.store.base import Connector, Row, Tx
from mainspring.store.repos import cancellations as cancellations_repo
from mainspring.store.repos import runs as runs_repo


@dataclass(frozen=True, slots=True)
class BulkRequest:
    app_id: str | None
    function_slug: str
    started_after: int
    started_before: int
    expression: str | None


def parse_bulk(body: Any) -> BulkRequest:
    """Validate `POST /v1/cancellations`; errors name the field."""
    if not isinstance(body, dict):
        raise errors.InvalidInput("the body must be a JSON object", field="body")
    function = body.get("function_id")
    if not isinstance(function, str) or not function:
        raise errors.InvalidInput("function_id must be a non-empty string", field="function_id")
    times = {}
    for key in ("started_after", "started_before"):
        value = body.get(key)
        if value is None and key == "started_after":
            times[key] = 0
            continue
        try:
            times[key] = parse_instant_ms(str(value)) if value is not None else -1
        except ValueError:
            times[key] = -1
        if times[key] < 0:
            raise errors.InvalidInput(f"{key} must be an RFC 3339 time", field=key)
    expression = body.get("if")
    if expression is not None:
        if not isinstance(expression, str):
            raise errors.InvalidInput("if must be a CEL expression string", field="if")
        try:
            expressions.compile_expression(expression)
        except errors.InvalidInput as exc:
            raise errors.InvalidInput(exc.message, field="if") from None
    app_id = body.get("app_id")
    return BulkRequest(
        app_id=app_id if isinstance(app_id, str) else None,
        function_slug=function,
        started_after=times["started_after"],
        started_before=times["started_before"],
        expression=expression,
    )


def cancellation_view(row: Row) -> dict[str, Any]:
    return {
        "id": row["id"],
        "app_id": row["app_id"],
        "function_id": row["function_slug"],
        "started_after": rfc3339(row["started_after"]) if row["started_after"] else None,
        "started_before": rfc3339(row["started_before"]),
        "if": row["expression"],
        "cancelled": row["cancelled"],
        "created_at": rfc3339(row["created_at"]),
    }


class Cancellations:
    def __init__(self, connector: Connector, ingest_service: accept.Ingest, clock: Clock) -> None:
        self._connector = connector
        self._ingest = ingest_service
        self._clock = clock

    async def cancel_run(self, run_id: str) -> str | None:
        """Cancel one run; returns its final status, or None if there is no such run."""
        now = self._clock()
        functions = self._ingest.functions
        actor = audit.current()

        def unit(tx: Tx, effects: Effects) -> str | None:
            changed = accept.cancel_run(tx, run_id, now, functions, effects)
            found = runs_repo.status(tx, run_id)
            if found is None:
                return None
            details = {"changed": bool(changed), "status": found.value}
            audit.record(
                tx,
                actor,
                "run.cancel",
                at=now,
                target_kind="run",
                target_id=run_id,
                details=details,
            )
            return found.value

        result: str | None = await self._ingest.run_unit(unit)
        return result

    async def bulk(self, request: BulkRequest) -> dict[str, Any]:
        now = self._clock()
        functions = self._ingest.functions
        cancellation_id = new_ulid()
        actor = audit.current()

        def unit(tx: Tx, effects: Effects) -> Row:
            cancelled = 0
            for row in runs_repo.running_of_function(
                tx, request.function_slug, request.started_after, request.started_before
            ):
                if request.expression and not _selected(tx, row["id"], request.expression):
                    continue
                if accept.cancel_run(tx, row["id"], now, functions, effects):
                    cancelled += 1
            _record_bulk(tx, actor, cancellation_id, request, cancelled, now)
            return cancellations_repo.insert(
                tx,
                cancellation_id=cancellation_id,
                app_id=request.app_id,
                function_slug=request.function_slug,
                started_after=request.started_after,
                started_before=request.started_before,
                expression=request.expression,
                cancelled=cancelled,
                now=now,
            )

        row = await self._ingest.run_unit(unit)
        return cancellation_view(row)

    async def list(self, limit: int) -> list[dict[str, Any]]:
        rows = await self._connector.read(lambda tx: cancellations_repo.list_all(tx, limit))
        return [cancellation_view(row) for row in rows]

    async def delete(self, cancellation_id: str) -> bool:
        now = self._clock()
        actor = audit.current()

        def unit(tx: Tx) -> bool:
            deleted = cancellations_repo.delete(tx, cancellation_id)
            if deleted:
                audit.record(
                    tx,
                    actor,
                    "cancellation.delete",
                    at=now,
                    target_kind="cancellation",
                    target_id=cancellation_id,
                )
            return deleted

        deleted: bool = await self._connector.write(unit)
        return deleted


def _record_bulk(
    tx: Tx, actor: str, cancellation_id: str, request: BulkRequest, cancelled: int, now: int
) -> None:
    details = {
        "app_id": request.app_id,
        "function_id": request.function_slug,
        "started_after": rfc3339(request.started_after) if request.started_after else None,
        "started_before": rfc3339(request.started_before),
        "if": request.expression,
        "cancelled": cancelled,
    }
    audit.record(
        tx,
        actor,
        "runs.cancel_bulk",
        at=now,
        target_kind="cancellation",
        target_id=cancellation_id,
        details=details,
    )


def _selected(tx: Tx, run_id: str, expression: str) -> bool:
    state = runs_repo.load_state(tx, run_id)
    event = state.events[0] if state and state.events else {}
    return expressions.evaluate_bool(expression, {"event": event})
