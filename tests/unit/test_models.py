"""The response models describe what the views build: the same fields, and values they accept.

The views build plain dicts (nothing we produce is validated again at run time); this is where
the dicts and the models that the OpenAPI document is generated from are held together.
"""

from __future__ import annotations

from typing import Any, get_args

import pytest
from pydantic import BaseModel

from mainspring.api import models
from mainspring.auth.keys import SCOPES
from mainspring.domain.events import Event
from mainspring.ingest.cancellation import cancellation_view
from mainspring.operations.kill_switch import kill_switch_view
from mainspring.operations.pausing import pause_view
from mainspring.operations.replays import replay_view
from mainspring.reads import trace, views

RUN_ROW = {
    "id": "01J0000000000000000000RUN1",
    "function_slug": "app-fn",
    "event_id": "01J000000000000000000EVT1",
    "event_ids": '["01J000000000000000000EVT1"]',
    "status": "Completed",
    "output": b'{"ok": true}',
    "started_at": 1_000,
    "ended_at": 1_500,
    "created_at": 900,
    "event_name": "app/go",
}
STEP_ROW = {
    "step_id": "s1",
    "name": "first",
    "op": "StepRun",
    "memo": b'{"data": 1}',
    "attempts": 1,
    "completed_at": 1_200,
}
HISTORY_ROW = {
    "at": 1_100,
    "kind": "step.error",
    "step_id": "s1",
    "step_name": "first",
    "attempt": 0,
    "data": b'{"message": "boom"}',
}
JOB_ROW = {
    "id": "01J000000000000000000JOB1",
    "kind": "step",
    "step_id": None,
    "step_name": None,
    "attempt": 0,
    "available_at": 2_000,
    "leased_by": None,
}


def _fields(model: type[BaseModel]) -> set[str]:
    return {field.alias or name for name, field in model.model_fields.items()}


def _event() -> Event:
    return Event("01J000000000000000000EVT1", "e1", "app/go", {"a": 1}, {}, 5, None, 1_000)


def _span() -> dict[str, Any]:
    step = views.step_view(STEP_ROW)
    return trace.spans([step], [views.history_view(HISTORY_ROW)])[0]


VIEWS: list[tuple[type[BaseModel], Any]] = [
    (models.Run, lambda: views.run_view(RUN_ROW)),
    (models.RunListItem, lambda: views.run_list_view(RUN_ROW)),
    (models.RunDetail, lambda: views.run_detail_view(views.run_view(RUN_ROW), None, False)),
    (models.Event, lambda: views.event_view(_event())),
    (models.Step, lambda: views.step_view(STEP_ROW)),
    (models.HistoryEntry, lambda: views.history_view(HISTORY_ROW)),
    (models.Job, lambda: views.job_view(JOB_ROW, parked_at=9)),
    (models.Span, _span),
    (models.KillSwitch, lambda: kill_switch_view(None)),
    (models.PauseState, lambda: pause_view(None, "app-fn")),
]


@pytest.mark.parametrize(("model", "build"), VIEWS, ids=[m.__name__ for m, _ in VIEWS])
def test_each_view_builds_its_model(model: type[BaseModel], build: Any) -> None:
    built = build()
    assert set(built) == _fields(model)
    model.model_validate(built)


def test_rows_of_other_services_have_their_models_fields() -> None:
    replay = {"id": "r", "run_ids": b"[]", "request": b"{}", "idempotency_key": None}
    assert set(replay_view({**replay, "created_at": 1})) == _fields(models.Replay)
    cancellation = {
        "id": "c",
        "app_id": None,
        "function_slug": "app-fn",
        "started_after": None,
        "started_before": 5,
        "expression": None,
        "cancelled": 0,
        "created_at": 1,
    }
    assert set(cancellation_view(cancellation)) == _fields(models.Cancellation)


def test_scopes_are_the_auth_scopes() -> None:
    assert set(get_args(models.Scope)) == set(SCOPES)
