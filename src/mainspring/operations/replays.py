"""Rerunning runs: one run (a new run of the same function with the same events), or many at
once (a bulk replay, the dead-letter "retry all"), idempotent per `Idempotency-Key`.

A rerun claims no run key, records `original_run_id` (`run_origins`) and a `run.scheduled`
history entry saying which run it repeats, and is queued like a fresh run: a paused function
holds it like any other run.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from mainspring import audit, codec, errors, ingest
from mainspring.clock import Clock
from mainspring.domain.durations import parse_instant_ms, rfc3339
from mainspring.domain.functions import Functions
from mainspring.domain.ids import new_ulid, ulid_floor
from mainspring.domain.runs import RunStatus
from mainspring.store.base import Row, Tx
from mainspring.store.repos import operations as ops_repo
from mainspring.store.repos import queue as queue_repo
from mainspring.store.repos import runs as runs_repo

MAX_REPLAY_RUNS = 1000
MAX_IDEMPOTENCY_KEY = 200


class IdempotencyConflict(errors.InvalidInput):
    """The Idempotency-Key was used before with a different request."""

    code = "idempotency_conflict"
    status = 409


@dataclass(frozen=True, slots=True)
class ReplayRequest:
    """Either explicit `run_ids`, or a selection: one function, one status, a creation window."""

    run_ids: tuple[str, ...] = ()
    function_slug: str | None = None
    status: str = RunStatus.FAILED.value
    started_after: int = 0
    started_before: int | None = None

    def as_json(self) -> dict[str, Any]:
        if self.run_ids:
            return {"run_ids": list(self.run_ids)}
        return {
            "function_id": self.function_slug,
            "status": self.status,
            "started_after": rfc3339(self.started_after),
            "started_before": rfc3339(self.started_before),
        }


def _instant(body: dict[str, Any], key: str) -> int | None:
    value = body.get(key)
    if value is None:
        return None
    try:
        return parse_instant_ms(str(value))
    except ValueError:
        raise errors.InvalidInput(f"{key} must be an RFC 3339 time", field=key) from None


def parse_replay(body: Any) -> ReplayRequest:
    """Validate `POST /v1/replays`; errors name the field."""
    if not isinstance(body, dict):
        raise errors.InvalidInput("the body must be a JSON object", field="body")
    if "run_ids" in body:
        run_ids = body["run_ids"]
        if (
            not isinstance(run_ids, list)
            or not run_ids
            or not all(isinstance(run_id, str) and run_id for run_id in run_ids)
        ):
            message = "run_ids must be a non-empty list of run ids"
            raise errors.InvalidInput(message, field="run_ids")
        if len(run_ids) > MAX_REPLAY_RUNS:
            message = f"at most {MAX_REPLAY_RUNS} runs per replay"
            raise errors.InvalidInput(message, field="run_ids")
        return ReplayRequest(run_ids=tuple(dict.fromkeys(run_ids)))
    function = body.get("function_id")
    if not isinstance(function, str) or not function:
        message = "give run_ids, or function_id (with status, started_after, started_before)"
        raise errors.InvalidInput(message, field="function_id")
    status = body.get("status", RunStatus.FAILED.value)
    if status not in {s.value for s in RunStatus}:
        raise errors.InvalidInput(
            "status must be one of Running, Completed, Failed, Cancelled", field="status"
        )
    return ReplayRequest(
        function_slug=function,
        status=status,
        started_after=_instant(body, "started_after") or 0,
        started_before=_instant(body, "started_before"),
    )


def replay_view(row: Row) -> dict[str, Any]:
    return {
        "replay_id": row["id"],
        "run_ids": codec.loads(row["run_ids"]),
        "request": codec.loads(row["request"]),
        "idempotency_key": row["idempotency_key"],
        "created_at": rfc3339(row["created_at"]),
    }


def parse_from_step(body: Any) -> str | None:
    """`POST /v2/runs/{id}/rerun` with `{"fromStep": {"stepId": …}}` (Inngest's field names;
    `from_step.step_id` too); an empty body reruns from the start."""
    if body is None or body == {}:
        return None
    if not isinstance(body, dict):
        raise errors.InvalidInput("the body must be a JSON object", field="body")
    key = "fromStep" if "fromStep" in body else "from_step"
    from_step = body.get(key)
    if from_step is None:
        return None
    if not isinstance(from_step, dict):
        raise errors.InvalidInput(f"{key} must be an object with stepId", field=key)
    step_id = from_step.get("stepId", from_step.get("step_id"))
    if not isinstance(step_id, str) or not step_id:
        raise errors.InvalidInput(f"{key}.stepId must be a step's id", field=f"{key}.stepId")
    if from_step.get("input") is not None:
        message = "a new input for the step is not supported; rerun from the step without it"
        raise errors.InvalidInput(message, field=f"{key}.input")
    return step_id


def _step_seq(tx: Tx, run_id: str, step: str) -> int:
    """The position of a memoized step of the run, found by its id (hash) or its name."""
    rows = runs_repo.list_steps(tx, run_id)
    for row in rows:
        if step in (row["step_id"], row["name"]):
            return int(row["seq"])
    raise errors.InvalidInput(
        f"run {run_id} has no recorded step {step!r}", field="fromStep.stepId"
    )


def rerun_unit(
    tx: Tx,
    original_run_id: str,
    now: int,
    functions: Functions,
    replay_id: str | None = None,
    from_step: str | None = None,
) -> str | None:
    """Queue a new run repeating `original_run_id`; None if there is no such run. From a step:
    the steps recorded before it are kept (memoized), that step and every later one run again.

    Raises NotFound when the run's function is no longer synced, InvalidInput for an unknown
    step.
    """
    original = runs_repo.load_state(tx, original_run_id)
    if original is None:
        return None
    function = functions.get(original.function_slug)
    if function is None:
        raise errors.NotFound(f"function {original.function_slug} is not synced")
    seq = None if from_step is None else _step_seq(tx, original_run_id, from_step)
    run_id = new_ulid()
    ops_repo.insert_rerun(tx, run_id, original_run_id, now)
    ops_repo.add_origin(tx, run_id, original_run_id, replay_id)
    data: dict[str, Any] = {"original_run_id": original_run_id, "replay_id": replay_id}
    if seq is not None:
        ops_repo.copy_steps_before(tx, run_id, original_run_id, seq)
        data["from_step"] = from_step
    runs_repo.add_history(tx, run_id, now, "run.scheduled", data=data)
    queue_repo.enqueue_discovery(tx, run_id, now, now)
    trigger = original.events[0] if original.events else {}
    ingest.arm_run(tx, function, run_id, trigger, now)
    return run_id


class Replays:
    """Rerun one run, or replay many (used by the REST API and the dashboard alike)."""

    def __init__(self, ingest_service: ingest.Ingest, clock: Clock) -> None:
        self._ingest = ingest_service
        self._clock = clock

    async def rerun(self, run_id: str, from_step: str | None = None) -> str | None:
        """A new run with the same event(s), from the start or from a step (see `rerun_unit`);
        returns its id, or None for an unknown run."""
        now = self._clock()
        functions = self._ingest.functions
        actor = audit.current()

        def unit(tx: Tx, effects: ingest.Effects) -> str | None:
            new_id = rerun_unit(tx, run_id, now, functions, from_step=from_step)
            if new_id is not None:
                effects.started.append(new_id)
                audit.record(
                    tx,
                    actor,
                    "run.rerun",
                    at=now,
                    target_kind="run",
                    target_id=run_id,
                    details={"new_run_id": new_id, "from_step": from_step},
                )
            return new_id

        result: str | None = await self._ingest.run_unit(unit)
        return result

    async def replay(
        self, request: ReplayRequest, idempotency_key: str | None = None
    ) -> dict[str, Any]:
        """Rerun the selected runs in one transaction.

        Answers `{"replay_id", "run_ids": [new run ids], ...}`. With an `idempotency_key` seen
        before, answers the first replay again and starts nothing. Unknown run ids → InvalidInput
        naming `run_ids` (nothing is started). The same key with another request →
        IdempotencyConflict (409).
        """
        if idempotency_key is not None and len(idempotency_key) > MAX_IDEMPOTENCY_KEY:
            message = f"Idempotency-Key is longer than {MAX_IDEMPOTENCY_KEY} characters"
            raise errors.InvalidInput(message, field="Idempotency-Key")
        now = self._clock()
        functions = self._ingest.functions
        replay_id = new_ulid()
        actor = audit.current()

        def unit(tx: Tx, effects: ingest.Effects) -> Row | None:
            if not ops_repo.claim_replay(tx, replay_id, idempotency_key, request.as_json(), now):
                assert idempotency_key is not None
                first = ops_repo.replay_by_key(tx, idempotency_key)
                if first is not None and codec.loads(first["request"]) != request.as_json():
                    message = "this Idempotency-Key was used with a different request"
                    raise IdempotencyConflict(message, field="Idempotency-Key")
                return first
            new_ids = []
            for original in _selected(tx, request, now):
                new_id = rerun_unit(tx, original, now, functions, replay_id)
                if new_id is None:
                    raise errors.InvalidInput(f"unknown run {original}", field="run_ids")
                new_ids.append(new_id)
            effects.started.extend(new_ids)
            ops_repo.set_replay_runs(tx, replay_id, new_ids)
            details = {"request": request.as_json(), "run_ids": new_ids}
            audit.record(
                tx,
                actor,
                "runs.replay",
                at=now,
                target_kind="replay",
                target_id=replay_id,
                details={**details, "idempotency_key": idempotency_key},
            )
            return ops_repo.get_replay(tx, replay_id)

        row = await self._ingest.run_unit(unit)
        assert row is not None
        return replay_view(row)


def _selected(tx: Tx, request: ReplayRequest, now: int) -> list[str]:
    if request.run_ids:
        return list(request.run_ids)
    assert request.function_slug is not None
    before = request.started_before if request.started_before is not None else now
    lower, upper = ulid_floor(request.started_after), ulid_floor(before + 1)
    return ops_repo.replay_candidates(
        tx, request.function_slug, request.status, lower, upper, MAX_REPLAY_RUNS
    )
