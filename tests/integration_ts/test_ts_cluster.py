"""The TypeScript SDK against two servers on one PostgreSQL database, where the server that
calls the app is not the one the app sends its checkpoints to: what one process learns from a
checkpoint must reach the process driving the run (through the database), and what one
process is told to publish must reach the realtime subscribers of the other."""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from integration.harness import Cluster, requires_postgres_dialect, wait_until

from .endpoint_stream import IN_REQUEST, THROUGH_SERVER, stream_from_endpoint
from .node_subscriber import NodeSubscriber
from .ts_harness import running_ts_cluster

RUNS = 8
COUNT = 100  # realtime messages
pytestmark = requires_postgres_dialect()


@pytest.fixture(scope="module")
def cluster(node_app: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    workdir = tmp_path_factory.mktemp("ts-cluster")
    # Events go to server 0, which wakes at once and drives most runs; checkpoints go to 1.
    with running_ts_cluster(workdir, 2, checkpointing=True, app_server=1) as stack:
        yield stack


def test_checkpoints_sent_to_another_server_are_not_run_again(cluster: Cluster) -> None:
    api = cluster.apis[0]
    run_ids = []
    for _ in range(RUNS):
        event_id = api.send_event("ts/checkpoint-then-fail", {})
        run_ids.append(str(api.run_for_event(event_id)["run_id"]))
    for run_id in run_ids:
        run = api.wait_for_run_status(run_id, "Completed", timeout=30)
        assert run["output"] == {"first": 1, "last": 2, "caught": "doomed fails"}, run

    entries = [e for e in cluster.sidefx.select(kind="START") if e["run_id"] in run_ids]
    starts = Counter((e["run_id"], e["step"]) for e in entries)
    twice = {key: n for key, n in starts.items() if n > 1}
    assert not twice, f"checkpointed steps ran again: {twice}"
    assert len(starts) == 3 * RUNS, starts
    api.assert_no_zombies()


def test_a_signal_reaches_a_run_waiting_on_another_server(cluster: Cluster) -> None:
    """The wait is recorded by the process driving the run (server 0); the signal arrives at
    server 1, by `POST /v1/signals` and by the app's `step.sendSignal` (its API origin is 1)."""
    driver, other = cluster.apis
    waiters = []
    for n in range(2):
        signal = f"cluster-{n}-{uuid.uuid4().hex[:8]}"
        event_id = driver.send_event("ts/signal.wait", {"signal": signal})
        run_id = str(driver.run_for_event(event_id)["run_id"])
        wait_until(
            lambda r=run_id: (
                any(h["kind"] == "step.waiting_signal" for h in other.data(f"/v1/runs/{r}/history"))
                or None
            ),
            timeout=20,
            what="the wait, read through the other server",
        )
        waiters.append((signal, run_id))

    (posted, first), (stepped, second) = waiters
    answer = other.http.post("/v1/signals", json={"signal": posted, "data": "posted"})
    assert answer.status_code == 200 and answer.json()["data"] == {"run_id": first}
    sender = driver.trigger_and_wait("ts/signal.send", {"signal": stepped, "data": "stepped"})
    assert sender["output"] == {"sent": {"runId": second}}

    for run_id, data in ((first, "posted"), (second, "stepped")):
        run = driver.wait_for_run_status(run_id, "Completed", timeout=30)
        assert run["output"]["after"] == data, run
    driver.assert_no_zombies()


@pytest.mark.parametrize("transport", ["ws", "sse"])
def test_a_subscriber_on_one_server_hears_what_the_app_published_on_the_other(
    cluster: Cluster, transport: str, tmp_path: Path
) -> None:
    """The app publishes to server 1 (its API origin); the subscriber is on server 0, with a
    token server 0 signed (dev mode: one key per database, so server 1 would take it too)."""
    channel = uuid.uuid4().hex[:10]
    subscriber = NodeSubscriber(
        cluster.servers[0].url,
        f"progress:{channel}",
        count=COUNT,
        transport=transport,
        log_dir=tmp_path,
    )
    try:
        subscriber.wait_ready()
        event_id = cluster.apis[0].send_event(
            "ts/realtime.publish", {"channel": channel, "count": COUNT, "via": "step"}
        )
        run_id = str(cluster.apis[0].run_for_event(event_id)["run_id"])
        cluster.apis[0].wait_for_run_status(run_id, "Completed", timeout=120)
        got = subscriber.messages(timeout=30)
    finally:
        subscriber.stop()
    assert [m["data"] for m in got] == [{"i": i, "of": COUNT} for i in range(COUNT)]
    assert {m["runId"] for m in got} == {run_id}


def test_an_endpoint_streams_to_a_caller_subscribed_on_the_other_server(
    cluster: Cluster, tmp_path: Path
) -> None:
    """The app tees its endpoint's stream to server 1 (its API origin); its caller follows the
    SDK to the run's stream on server 0 instead, which hears the tee through PostgreSQL."""
    streamed = stream_from_endpoint(
        cluster.app.port, tmp_path, cluster.apis[0], sse_origin=cluster.servers[0].url
    )

    assert streamed.subscribed_at().startswith(f"{cluster.servers[0].url}/v1/realtime/sse?")
    assert streamed.status_while_held == "Running"
    assert streamed.data() == IN_REQUEST + THROUGH_SERVER
    assert streamed.response()["status"] == 200
    run = cluster.apis[0].wait_for_run_status(streamed.run_id, "Completed", timeout=30)
    assert run["output"]["status"] == 200
