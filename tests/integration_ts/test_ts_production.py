"""The TypeScript SDK (npm `inngest` 4.24.0) in cloud mode against `mainspring start`.

Checks that our signatures pass the SDK's verification (canonicalize + HMAC, 5-minute window),
that its bearer (prefixed hash) passes ours on `/fn/register` and `/v1/checkpoint/…`, and that
its reply signatures verify (on by default in production).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from integration.harness import AppProcess
from integration.production import CloudStack, new_signing_key, running_cloud_stack

from .ts_harness import FUNCTION_IDS, NodeAppProcess


def _node_factory(checkpointing: bool) -> Any:
    def make(_module: str, **kwargs: Any) -> AppProcess:
        return NodeAppProcess(checkpointing=checkpointing, **kwargs)

    return make


@pytest.fixture(scope="module", params=[True, False], ids=["checkpointing", "classic"])
def cloud_ts(
    request: pytest.FixtureRequest, node_app: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[CloudStack]:
    with running_cloud_stack(
        tmp_path_factory.mktemp("ts-cloud"),
        "server.js",
        functions=len(FUNCTION_IDS),
        signing_key=new_signing_key(),
        app_factory=_node_factory(bool(request.param)),
    ) as stack:
        yield stack


def test_a_full_run_succeeds_in_cloud_mode(cloud_ts: CloudStack) -> None:
    run = cloud_ts.api.trigger_and_wait("ts/chain", {"n": 1}, timeout=30)
    assert run["output"] == {"total": 25}


def test_a_sleep_resumes_in_cloud_mode(cloud_ts: CloudStack) -> None:
    run = cloud_ts.api.trigger_and_wait("ts/sleep", timeout=30)
    assert run["output"] == "after"


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
