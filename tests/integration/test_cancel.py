"""Cancellation through the official Python SDK: `cancel` rules matched by events,
`DELETE /v1/runs/{id}`, bulk `POST /v1/cancellations`, a step in flight while the run is
cancelled, and `timeouts.finish`."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator

import pytest

from .harness import (
    JSONDict,
    Stack,
    assert_stays,
    cancel_run,
    lifecycle_events,
    rfc3339,
    running_stack,
    start_run,
    wait_for_history,
)

SLUGS = ("cancel-sleepy", "cancel-bulk", "cancel-inflight", "cancel-deadline", "cancel-quick")
UNKNOWN_RUN_ID = "01KAAAAAAAAAAAAAAAAAAAAAAA"


@pytest.fixture(scope="module")
def canceller(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    with running_stack(tmp_path_factory.mktemp("cancel"), "cancel_app", SLUGS) as stack:
        yield stack


def new_key() -> str:
    return uuid.uuid4().hex


def status(stack: Stack, run_id: str) -> str | None:
    run = stack.api.get_run(run_id)
    return None if run is None else str(run["status"])


def wait_sleeping(stack: Stack, run_id: str) -> None:
    """Block until the server recorded the run's 60 s sleep (any history entry for `nap`)."""
    wait_for_history(stack.api, run_id, step_name="nap")


def started(stack: Stack, run_id: str, step: str) -> list[JSONDict]:
    return stack.sidefx.select(kind="START", run_id=run_id, step=step)


def calls_after(stack: Stack, run_id: str, moment: float) -> list[JSONDict]:
    """SDK calls of the run that began after `moment` (time.monotonic())."""
    return [e for e in stack.sidefx.select(kind="CALL", run_id=run_id) if e["mono"] > moment]


def assert_cancel_events(stack: Stack, run_id: str, slug: str) -> None:
    for name in ("inngest/function.cancelled", "inngest/function.finished"):
        mine = lifecycle_events(stack.api, name, run_id)
        assert len(mine) == 1, f"{name} for run {run_id}: {mine}"
        assert mine[0]["data"].get("function_id") == slug, mine[0]
    # The cancelled event's id is the run id (de-dupes parallel finalizations, protocol §5.3).
    (cancelled,) = lifecycle_events(stack.api, "inngest/function.cancelled", run_id)
    assert cancelled["id"] == run_id, cancelled


def test_cancel_event_with_matching_id_cancels_run(canceller: Stack) -> None:
    api = canceller.api
    a, b = new_key(), new_key()
    # A cancel event received before run B started must not cancel it (protocol §2).
    api.send_event("cancel/stop", {"id": b})
    run_a = start_run(api, "cancel/start", {"id": a})
    run_b = start_run(api, "cancel/start", {"id": b})
    wait_sleeping(canceller, run_a)
    wait_sleeping(canceller, run_b)

    api.send_event("cancel/stop", {"id": "nobody"})
    assert_stays(
        lambda: status(canceller, run_a) == "Running" and status(canceller, run_b) == "Running",
        duration=1.0,
        what="both runs to keep running after a cancel event with another id",
    )

    cancelled_at = time.monotonic()
    api.send_event("cancel/stop", {"id": a})
    run = api.wait_for_run_status(run_a, "Cancelled", timeout=10)
    assert run["ended_at"] is not None

    # Nothing more happens to the cancelled run; the other one keeps sleeping.
    assert_stays(
        lambda: (
            status(canceller, run_a) == "Cancelled"
            and status(canceller, run_b) == "Running"
            and not started(canceller, run_a, "after")
        ),
        duration=1.5,
        what="the cancelled run to stay cancelled with no step after the sleep",
    )
    assert calls_after(canceller, run_a, cancelled_at) == []
    assert [e["step"] for e in canceller.sidefx.select(kind="START", run_id=run_a)] == ["before"]

    assert_cancel_events(canceller, run_a, "cancel-sleepy")
    assert lifecycle_events(api, "inngest/function.cancelled", run_b) == []
    kinds = [h["kind"] for h in api.data(f"/v1/runs/{run_a}/history")]
    assert "run.cancelled" in kinds, kinds

    resp = cancel_run(api, run_b)
    assert resp.status_code == 200, resp.text


def test_delete_run(canceller: Stack) -> None:
    api = canceller.api
    run_id = start_run(api, "cancel/bulk", {"id": new_key()})
    wait_sleeping(canceller, run_id)

    cancelled_at = time.monotonic()
    resp = cancel_run(api, run_id)
    assert resp.status_code == 200, resp.text
    assert resp.json()["data"] == {"run_id": run_id, "status": "Cancelled"}
    run = api.get_run(run_id)
    assert run is not None and run["status"] == "Cancelled", run
    assert run["ended_at"] is not None

    assert_stays(
        lambda: (
            status(canceller, run_id) == "Cancelled" and not started(canceller, run_id, "after")
        ),
        duration=1.0,
        what="the deleted run to stay cancelled",
    )
    assert calls_after(canceller, run_id, cancelled_at) == []
    assert_cancel_events(canceller, run_id, "cancel-bulk")

    # Again: it has already ended, so 200 with its final status and nothing changes.
    again = cancel_run(api, run_id)
    assert again.status_code == 200, again.text
    assert again.json()["data"]["status"] == "Cancelled"
    assert len(lifecycle_events(api, "inngest/function.cancelled", run_id)) == 1

    unknown = cancel_run(api, UNKNOWN_RUN_ID)
    assert unknown.status_code == 404, unknown.text


def test_delete_completed_run_changes_nothing(canceller: Stack) -> None:
    api = canceller.api
    done = api.trigger_and_wait("cancel/quick")
    run_id = str(done["run_id"])
    resp = cancel_run(api, run_id)
    assert resp.status_code == 200, resp.text
    assert resp.json()["data"]["status"] == "Completed"
    run = api.get_run(run_id)
    assert run is not None
    assert (run["status"], run["output"], run["ended_at"]) == (
        "Completed",
        "done",
        done["ended_at"],
    )
    assert lifecycle_events(api, "inngest/function.cancelled", run_id) == []


def test_bulk_cancellation(canceller: Stack) -> None:
    api = canceller.api
    # The window keeps runs other tests may have left behind out of this cancellation.
    window_start = time.time()
    event_ids = api.send_events([{"name": "cancel/bulk", "data": {"i": i}} for i in range(3)])
    run_ids = [str(api.run_for_event(e)["run_id"]) for e in event_ids]
    for run_id in run_ids:
        wait_sleeping(canceller, run_id)

    body = {
        "app_id": "cancel",
        "function_id": "cancel-bulk",
        "started_after": rfc3339(window_start - 0.001),
        "started_before": rfc3339(time.time()),
    }
    resp = api.http.post("/v1/cancellations", json=body)
    assert resp.status_code == 201, resp.text
    created = resp.json()["data"]
    assert created["function_id"] == "cancel-bulk"
    assert created["app_id"] == "cancel"
    assert created["cancelled"] == 3, created
    for run_id in run_ids:
        api.wait_for_run_status(run_id, "Cancelled", timeout=10)
        assert_cancel_events(canceller, run_id, "cancel-bulk")

    # A run started after the cancellation was created is not affected by it.
    later = start_run(api, "cancel/bulk", {"i": 3})
    wait_sleeping(canceller, later)
    assert_stays(
        lambda: status(canceller, later) == "Running",
        duration=1.0,
        what="a run started after the bulk cancellation to keep running",
    )
    assert all(not started(canceller, r, "after") for r in run_ids)

    listed = api.data("/v1/cancellations")
    assert created["id"] in [c["id"] for c in listed], listed
    deleted = api.http.delete(f"/v1/cancellations/{created['id']}")
    assert deleted.status_code == 200, deleted.text
    assert created["id"] not in [c["id"] for c in api.data("/v1/cancellations")]

    assert cancel_run(api, later).status_code == 200


@pytest.mark.parametrize(
    ("body", "field"),
    [
        pytest.param(
            {"app_id": "cancel", "function_id": "cancel-bulk"}, "started_before", id="no-before"
        ),
        pytest.param(
            {"app_id": "cancel", "function_id": "cancel-bulk", "started_before": "yesterday"},
            "started_before",
            id="bad-before",
        ),
        pytest.param(
            {"app_id": "cancel", "started_before": "2030-01-01T00:00:00Z"},
            "function_id",
            id="no-function",
        ),
        pytest.param(
            {
                "app_id": "cancel",
                "function_id": "cancel-bulk",
                "started_before": "2030-01-01T00:00:00Z",
                "started_after": "not a time",
            },
            "started_after",
            id="bad-after",
        ),
        pytest.param(
            {
                "app_id": "cancel",
                "function_id": "cancel-bulk",
                "started_before": "2030-01-01T00:00:00Z",
                "if": "event.data.x == == 1",
            },
            "if",
            id="bad-if",
        ),
    ],
)
def test_bulk_cancellation_bad_body(canceller: Stack, body: JSONDict, field: str) -> None:
    api = canceller.api
    before = api.data("/v1/cancellations")
    resp = api.http.post("/v1/cancellations", json=body)
    assert resp.status_code == 400, resp.text
    answer = resp.json()
    assert answer.get("status") == 400, answer
    assert answer.get("field") == field or field in str(answer.get("error")), answer
    assert api.data("/v1/cancellations") == before


def test_bulk_cancellation_invalid_json(canceller: Stack) -> None:
    resp = canceller.api.http.post(
        "/v1/cancellations", content=b'{"app_id": ', headers={"Content-Type": "application/json"}
    )
    assert resp.status_code == 400, resp.text
    assert resp.json().get("status") == 400


def test_cancel_while_step_in_flight(canceller: Stack) -> None:
    api = canceller.api
    run_id = start_run(api, "cancel/inflight")
    canceller.sidefx.wait_for(
        lambda es: any(e["kind"] == "START" and e["run_id"] == run_id for e in es),
        timeout=10,
        what="the slow step to start",
    )

    resp = cancel_run(api, run_id)
    assert resp.status_code == 200, resp.text
    assert resp.json()["data"]["status"] == "Cancelled"
    at_cancel = api.get_run(run_id)
    assert at_cancel is not None and at_cancel["status"] == "Cancelled"

    # The step body finishes (the SDK call was already under way) ...
    canceller.sidefx.wait_for(
        lambda es: any(
            e["kind"] == "END" and e["run_id"] == run_id and e["step"] == "slow" for e in es
        ),
        timeout=10,
        what="the in-flight step body to end",
    )
    ended = time.monotonic()
    # ... but its result is discarded: the run stays as it was and nothing else runs.
    seen: list[JSONDict | None] = []

    def unchanged() -> bool:
        seen.append(api.get_run(run_id))
        return seen[-1] == at_cancel and not started(canceller, run_id, "after")

    try:
        assert_stays(
            unchanged,
            duration=1.5,
            what="the cancelled run to stay unchanged after the in-flight step returned",
        )
    except AssertionError as exc:
        raise AssertionError(f"{exc}\nat cancel: {at_cancel}\nnow: {seen[-1]}") from None
    assert calls_after(canceller, run_id, ended) == []
    assert [s["name"] for s in api.run_steps(run_id)] == [], "in-flight step result was saved"
    assert_cancel_events(canceller, run_id, "cancel-inflight")


@pytest.mark.slow
def test_finish_timeout_cancels_run(canceller: Stack) -> None:
    api = canceller.api
    run_id = start_run(api, "cancel/deadline")
    first_call = min(
        e["mono"]
        for e in canceller.sidefx.wait_for(
            lambda es: any(e["kind"] == "CALL" and e["run_id"] == run_id for e in es),
            timeout=10,
            what="the first call of the run",
        )
        if e["kind"] == "CALL" and e["run_id"] == run_id
    )

    api.wait_for_run_status(run_id, "Cancelled", timeout=10)
    seen = time.monotonic() - first_call
    assert 1.9 <= seen <= 4.0, f"timeouts.finish=2s cancelled the run {seen:.2f}s after it began"
    assert not started(canceller, run_id, "after")
    assert_cancel_events(canceller, run_id, "cancel-deadline")
