"""The TypeScript SDK (npm `inngest` 4.24.0) in cloud mode against `mainspring start`.

Checks that our signatures pass the SDK's verification (canonicalize + HMAC, 5-minute window),
that its bearer (prefixed hash) passes ours on `/fn/register` and `/v1/checkpoint/…`, and that
its reply signatures verify (on by default in production).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from integration.fake_http import Answer, FakeHttp, running_fake_http
from integration.harness import AppProcess, wait_until
from integration.production import CloudStack, new_signing_key, running_cloud_stack

from .endpoint_stream import IN_REQUEST, THROUGH_SERVER, stream_from_endpoint
from .ts_harness import FUNCTION_IDS, NodeAppProcess


def _node_factory(checkpointing: bool) -> Any:
    def make(_module: str, **kwargs: Any) -> AppProcess:
        return NodeAppProcess(checkpointing=checkpointing, **kwargs)

    return make


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeHttp]:
    yield from running_fake_http()


@pytest.fixture(scope="module", params=[True, False], ids=["checkpointing", "classic"])
def cloud_ts(
    request: pytest.FixtureRequest,
    node_app: Path,
    tmp_path_factory: pytest.TempPathFactory,
    fake: FakeHttp,
) -> Iterator[CloudStack]:
    with running_cloud_stack(
        tmp_path_factory.mktemp("ts-cloud"),
        "server.js",
        functions=len(FUNCTION_IDS),
        signing_key=new_signing_key(),
        app_factory=_node_factory(bool(request.param)),
        server_args=["--egress-allow", f"{fake.origin}/allowed/"],
    ) as stack:
        yield stack


def test_a_full_run_succeeds_in_cloud_mode(cloud_ts: CloudStack) -> None:
    run = cloud_ts.api.trigger_and_wait("ts/chain", {"n": 1}, timeout=30)
    assert run["output"] == {"total": 25}


def test_a_sleep_resumes_in_cloud_mode(cloud_ts: CloudStack) -> None:
    run = cloud_ts.api.trigger_and_wait("ts/sleep", timeout=30)
    assert run["output"] == "after"


def test_step_fetch_obeys_the_egress_allow_list(cloud_ts: CloudStack, fake: FakeHttp) -> None:
    denied = fake.new_path("denied/")
    url = fake.script(denied, Answer(200, b"secret internal page"))
    run = cloud_ts.api.trigger_and_wait("ts/fetch", {"url": url}, timeout=30)
    assert "--egress-allow" in run["output"]["error"], run
    assert fake.seen(denied) == []  # refused before any connection, and not retried
    errors = [h for h in cloud_ts.api.data(f"/v1/runs/{run['run_id']}/history")]
    assert [h["kind"] for h in errors].count("step.failed") == 1

    allowed = fake.new_path("allowed/")
    url = fake.script(allowed, Answer(200, b"public"))
    run = cloud_ts.api.trigger_and_wait("ts/fetch", {"url": url}, timeout=30)
    assert run["output"]["body"] == "public"


def test_step_send_signal_passes_our_auth_and_resumes_a_waiting_run(cloud_ts: CloudStack) -> None:
    """The SDK's `POST /v1/signals` carries the hashed signing key: an admin credential."""
    api, signal = cloud_ts.api, f"cloud-{uuid.uuid4().hex[:10]}"
    waiter = str(api.run_for_event(api.send_event("ts/signal.wait", {"signal": signal}))["run_id"])
    wait_until(
        lambda: (
            any(h["kind"] == "step.waiting_signal" for h in api.data(f"/v1/runs/{waiter}/history"))
            or None
        ),
        timeout=20,
        what="the signal wait",
    )
    anonymous = httpx.post(f"{api.server.url}/v1/signals", json={"signal": signal}, timeout=5)
    assert anonymous.status_code == 401

    sender = api.trigger_and_wait("ts/signal.send", {"signal": signal, "data": 5}, timeout=30)
    assert sender["output"] == {"sent": {"runId": waiter}}
    run = api.wait_for_run_status(waiter, "Completed", timeout=30)
    assert run["output"]["got"] == {"signal": signal, "data": 5}


def test_an_app_with_another_key_refuses_our_calls(node_app: Path, tmp_path: Path) -> None:
    with running_cloud_stack(
        tmp_path,
        "server.js",
        functions=len(FUNCTION_IDS),
        signing_key=new_signing_key(),
        app_factory=_node_factory(True),
    ) as stack:
        stack.app.stop()
        stack.app.extra_env["INNGEST_SIGNING_KEY"] = new_signing_key()
        stack.app.start()
        run = stack.api.trigger_and_wait("ts/chain", {"n": 1}, statuses="Failed", timeout=30)
        assert "INNGEST_SIGNING_KEY" in str(run["output"])


def test_a_durable_endpoint_in_cloud_mode(cloud_ts: CloudStack) -> None:
    """The endpoint's checkpoints carry the signing-key bearer; the server's replay of its request
    is signed and its reply verified; the caller follows the redirect with the run token alone."""
    url = f"http://127.0.0.1:{cloud_ts.app.port}/api/endpoint/flaky"
    resp = httpx.get(url, params={"fail": 1}, follow_redirects=True, timeout=30)

    assert resp.status_code == 200, resp.text
    assert resp.history and resp.history[0].status_code == 302
    assert resp.json()["tries"] == 2
    run = cloud_ts.api.wait_for_run_status(resp.json()["run_id"], "Completed", timeout=30)
    assert run["output"]["status"] == 200
    unsigned = httpx.post(f"{cloud_ts.server.url}/v1/checkpoint", json={}, timeout=10)
    assert unsigned.status_code == 401


def test_a_streaming_endpoint_in_cloud_mode(cloud_ts: CloudStack, tmp_path: Path) -> None:
    """The SDK tees its endpoint's stream with the signing key; its caller subscribes with the
    run's realtime token (in production the only way in); the tee refuses anyone else."""
    streamed = stream_from_endpoint(cloud_ts.app.port, tmp_path, cloud_ts.api)

    assert streamed.data() == IN_REQUEST + THROUGH_SERVER
    assert streamed.response()["status"] == 200
    tee = f"{cloud_ts.server.url}/v1/realtime/publish/tee"
    params = {"channel": streamed.run_id}
    assert httpx.post(tee, params=params, content=b"x", timeout=10).status_code == 401
    subscription = httpx.URL(streamed.subscribed_at()).params["token"]
    as_subscriber = {"Authorization": f"Bearer {subscription}"}  # no publish claim
    refused = httpx.post(tee, params=params, content=b"x", headers=as_subscriber, timeout=10)
    assert refused.status_code == 401
