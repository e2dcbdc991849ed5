"""Run detail for waits and invokes: the wait's expression and what resumed it, the child run."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest

from integration.harness import Stack, running_stack, start_run, wait_for_history


@pytest.fixture(scope="module")
def waits(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    with running_stack(tmp_path_factory.mktemp("w"), "waits_app", ("waits-match",)) as stack:
        yield stack


@pytest.fixture(scope="module")
def invokes(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    slugs = ("inv-parent", "inv-child")
    with running_stack(tmp_path_factory.mktemp("i"), "invoke_app", slugs) as stack:
        yield stack


def test_a_wait_shows_its_expression_then_the_event_that_resumed_it(waits: Stack) -> None:
    run_id = start_run(waits.api, "waits/start", {"id": "order-7", "timeout": 30})
    wait_for_history(waits.api, run_id, kind="step.waiting")
    waiting = waits.api.http.get(f"/runs/{run_id}").text
    assert 'data-status="waiting"' in waiting
    assert "waits/reply" in waiting and "event.data.id == async.data.id" in waiting
    assert 'hx-trigger="every 1s"' in waiting  # a running run's page refreshes itself

    reply_id = waits.api.send_event("waits/reply", {"id": "order-7"})
    waits.api.wait_for_run_status(run_id, "Completed")
    done = waits.api.http.get(f"/runs/{run_id}").text
    assert 'data-status="completed"' in done
    assert "Resumed by" in done and "waits/reply" in done
    assert 'hx-trigger="every 1s"' not in done
    stored = waits.api.data(f"/v1/events/{reply_id}")
    assert stored["id"] in done  # the resuming event's id


def test_an_invoke_links_to_the_child_run(invokes: Stack) -> None:
    run = invokes.api.trigger_and_wait("inv/parent", {"token": "t-1"})
    html = invokes.api.http.get(f"/runs/{run['run_id']}").text
    assert 'data-step-name="call"' in html
    link = re.search(r'run <a class="mono" href="/runs/(\w+)"', html)
    assert link is not None
    child = invokes.api.get_run(link.group(1))
    assert child is not None and child["function_id"] == "inv-child"
    assert child["status"] == "Completed"
