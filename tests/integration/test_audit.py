"""The audit log (issue 18 part 3) on `mainspring start` with the official Python SDK: every
operator action through REST, GraphQL and the dashboard appears in `GET /v1/audit` with the
right actor (a named API token, a dashboard session signed in with it), its reason and target;
the filters, the cursor, and 400s naming the bad parameter."""

from __future__ import annotations

import contextlib
import getpass
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from .harness import JSONDict
from .production import CloudStack, new_signing_key, running_cloud_stack


@pytest.fixture(scope="module")
def prod(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CloudStack]:
    with running_cloud_stack(
        tmp_path_factory.mktemp("audit"), "ops_app", functions=3, signing_key=new_signing_key()
    ) as stack:
        yield stack


def token_client(stack: CloudStack, name: str, scope: str = "admin") -> httpx.Client:
    """A client with a new API token called `name` (created with the signing key)."""
    resp = stack.api.http.post("/v1/admin/api-tokens", json={"name": name, "scope": scope})
    assert resp.status_code == 201, resp.text
    headers = {"Authorization": f"Bearer {resp.json()['data']['token']}"}
    return httpx.Client(base_url=stack.server.url, timeout=15.0, headers=headers)


@pytest.fixture(scope="module")
def ops(prod: CloudStack) -> Iterator[httpx.Client]:
    with token_client(prod, "ops") as client:
        yield client


def ok(resp: httpx.Response) -> Any:
    assert resp.status_code in (200, 201), f"{resp.request.url} -> {resp.status_code}: {resp.text}"
    return resp.json().get("data")


def audit(stack: CloudStack, **params: Any) -> list[JSONDict]:
    resp = stack.api.http.get("/v1/audit", params={"limit": 1000, **params})
    assert resp.status_code == 200, resp.text
    entries: list[JSONDict] = resp.json()["data"]
    return entries


def entry(stack: CloudStack, action: str, target: str | None = None, **match: Any) -> JSONDict:
    """The newest entry of `action` (on `target`) whose fields include `match`."""
    params = {"action": action, **({"target": target} if target else {})}
    for found in audit(stack, **params):
        if all(found.get(key) == value for key, value in match.items()):
            return found
    raise AssertionError(f"no {action} entry matching {match}: {audit(stack, action=action)}")


def finished_run(stack: CloudStack, n: int) -> str:
    run = stack.api.trigger_and_wait("ops/quick", {"n": n})
    return str(run["run_id"])


def test_rest_actions_are_recorded_with_the_token_name_and_reason(
    prod: CloudStack, ops: httpx.Client
) -> None:
    ok(ops.post("/v1/kill-switch", json={"reason": "bad deploy", "requested_by": "ann"}))
    ok(ops.request("DELETE", "/v1/kill-switch", json={}))
    ok(ops.post("/v1/functions/ops-quick/pause", json={"reason": "maintenance"}))
    ok(ops.post("/v1/functions/ops-quick/resume", json={}))

    on = entry(prod, "kill_switch.on", actor="token:ops")
    assert on["reason"] == "bad deploy"
    assert on["details"] == {"changed": True, "requested_by": "ann"}
    off = entry(prod, "kill_switch.off", actor="token:ops")
    assert off["details"]["changed"] is True and off["details"]["skipped_run_ids"] == []
    pause = entry(prod, "function.pause", "ops-quick", actor="token:ops")
    assert pause["reason"] == "maintenance"
    assert pause["target"] == {"kind": "function", "id": "ops-quick"}
    entry(prod, "function.resume", "ops-quick", actor="token:ops")
    # Newest first: the resume was the last of the four.
    assert [e["action"] for e in audit(prod, actor="token:ops")][:4] == [
        "function.resume",
        "function.pause",
        "kill_switch.off",
        "kill_switch.on",
    ]


def test_runs_reruns_replays_cancels_and_invokes_are_recorded(
    prod: CloudStack, ops: httpx.Client
) -> None:
    original = finished_run(prod, 1)
    rerun = ok(ops.post(f"/v2/runs/{original}/rerun"))
    assert entry(prod, "run.rerun", original, actor="token:ops")["details"] == {
        "new_run_id": rerun["run_id"],
        "from_step": None,
    }
    replay = ok(ops.post("/v1/replays", json={"run_ids": [original]}))
    found = entry(prod, "runs.replay", replay["replay_id"], actor="token:ops")
    assert found["details"]["run_ids"] == replay["run_ids"]

    invoked = ok(ops.post("/invoke/ops-steps", json={"data": {"n": 2}}))
    assert invoked is None  # `/invoke` answers `{id, status}` outside the envelope
    invoke = entry(prod, "function.invoke", "ops-steps", actor="token:ops")
    run_id = str(prod.api.run_for_event(invoke["details"]["event_ids"][0])["run_id"])
    ok(ops.delete(f"/v1/runs/{run_id}"))
    cancel = entry(prod, "run.cancel", run_id, actor="token:ops")
    assert cancel["details"]["status"] == "Cancelled"

    bulk = ok(
        ops.post(
            "/v1/cancellations",
            json={"function_id": "ops-steps", "started_before": "2100-01-01T00:00:00Z"},
        )
    )
    assert entry(prod, "runs.cancel_bulk", bulk["id"])["details"]["function_id"] == "ops-steps"
    ok(ops.delete(f"/v1/cancellations/{bulk['id']}"))
    entry(prod, "cancellation.delete", bulk["id"], actor="token:ops")


def test_keys_tokens_and_app_syncs_are_recorded(prod: CloudStack, ops: httpx.Client) -> None:
    key = ok(ops.post("/v1/admin/event-keys", json={"name": "billing"}))
    ok(ops.delete("/v1/admin/event-keys/billing"))
    made = ok(ops.post("/v1/admin/api-tokens", json={"name": "grafana", "scope": "read"}))
    ok(ops.delete(f"/v1/admin/api-tokens/{made['id']}"))
    created = entry(prod, "event_key.create", key["id"], actor="token:ops")
    assert created["details"]["name"] == "billing"
    assert key["key"] not in str(audit(prod))  # secrets never reach the log
    entry(prod, "event_key.revoke", "billing", actor="token:ops")
    assert entry(prod, "api_token.create", made["id"])["details"]["scope"] == "read"
    entry(prod, "api_token.revoke", made["id"], actor="token:ops")

    # The first sync came from the app itself (its `/fn/register` with the signing key).
    synced = entry(prod, "app.synced", actor="sdk")
    assert synced["details"]["name"] == "ops"
    app_url = prod.app.url
    assert ok(ops.post("/v1/admin/apps", json={"url": app_url}))["error"] is None
    assert entry(prod, "app.sync", app_url, actor="token:ops")["details"]["ok"] is True


def test_graphql_mutations_are_recorded(prod: CloudStack, ops: httpx.Client) -> None:
    original = finished_run(prod, 3)
    query = "mutation($id: ULID!) { rerun(runID: $id) }"
    resp = ops.post("/v0/gql", json={"query": query, "variables": {"id": original}})
    assert resp.status_code == 200 and "errors" not in resp.json(), resp.text
    new_id = resp.json()["data"]["rerun"]
    assert entry(prod, "run.rerun", original, actor="token:ops")["details"]["new_run_id"] == new_id


def test_refused_requests_record_nothing(prod: CloudStack) -> None:
    before = len(audit(prod))
    with token_client(prod, "viewer", "read") as viewer:
        assert viewer.post("/v1/kill-switch", json={"reason": "x"}).status_code == 403
        assert viewer.get("/v1/audit").status_code == 200  # reading is a read
    assert [e["action"] for e in audit(prod)[: len(audit(prod)) - before]] == ["api_token.create"]


def dashboard_session(stack: CloudStack, token: str) -> tuple[httpx.Client, str]:
    """Sign in through the login form; the client and the session's CSRF token."""
    client = httpx.Client(base_url=stack.server.url, timeout=15.0)
    client.get("/login")
    form = {"token": token, "csrf_token": client.cookies["mainspring_login_csrf"], "next": "/"}
    assert client.post("/login", data=form).status_code == 303
    return client, str(client.get("/auth/session").json()["csrf_token"])


def test_dashboard_actions_are_recorded_as_the_session(prod: CloudStack) -> None:
    made = ok(prod.api.http.post("/v1/admin/api-tokens", json={"name": "ann", "scope": "admin"}))
    client, csrf = dashboard_session(prod, made["token"])
    with contextlib.closing(client):
        form = {"csrf_token": csrf, "reason": "flaky upstream"}
        assert client.post("/ui/functions/ops-fails/pause", data=form).status_code == 200
        assert client.post("/ui/functions/ops-fails/resume", data=form).status_code == 200
        invoke = {"csrf_token": csrf, "data": '{"n": 4}'}
        assert client.post("/ui/functions/ops-quick/invoke", data=invoke).status_code == 200
        # The REST API with the session cookie (and the CSRF header) is the session too.
        headers = {"X-CSRF-Token": csrf}
        resp = client.post("/v1/kill-switch", json={"reason": "from ui"}, headers=headers)
        assert resp.status_code == 200
        assert client.request("DELETE", "/v1/kill-switch", headers=headers).status_code == 200
        # The Audit page lists them.
        page = client.get("/audit", params={"actor": "session:ann"})
        assert page.status_code == 200 and "function.pause" in page.text
    pause = entry(prod, "function.pause", "ops-fails", actor="session:ann")
    assert pause["reason"] == "flaky upstream"
    entry(prod, "function.resume", "ops-fails", actor="session:ann")
    entry(prod, "function.invoke", "ops-quick", actor="session:ann")
    assert entry(prod, "kill_switch.on", actor="session:ann")["reason"] == "from ui"
    # A session signed in with the signing key is named after it.
    client, csrf = dashboard_session(prod, prod.server.signing_key)
    with contextlib.closing(client):
        run_id = finished_run(prod, 5)
        resp = client.post(f"/ui/runs/{run_id}/rerun", data={"csrf_token": csrf})
        assert resp.status_code == 200
    entry(prod, "run.rerun", run_id, actor="session:signing-key")


def test_filters_and_cursor(prod: CloudStack, ops: httpx.Client) -> None:
    for reason in ("one", "two", "three"):
        ok(ops.post("/v1/functions/ops-steps/pause", json={"reason": reason}))
        ok(ops.post("/v1/functions/ops-steps/resume", json={}))
    everything = audit(prod)
    assert len(everything) >= 6
    assert [e["id"] for e in everything] == sorted((e["id"] for e in everything), reverse=True)

    # Paging two at a time gives the same entries, in the same order.
    paged: list[JSONDict] = []
    cursor: str | None = None
    while True:
        params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        body = prod.api.http.get("/v1/audit", params=params).json()
        paged.extend(body["data"])
        cursor = body["metadata"]["cursor"]
        assert body["metadata"]["has_more"] is (cursor is not None)
        if cursor is None:
            break
    assert [e["id"] for e in paged] == [e["id"] for e in everything]

    pauses = audit(prod, action="function.pause", target="ops-steps", actor="token:ops")
    assert [e["reason"] for e in pauses][:3] == ["three", "two", "one"]
    of_steps = audit(prod, target="ops-steps")
    assert {e["target"]["id"] for e in of_steps} == {"ops-steps"}
    assert {"function.pause", "function.resume"} <= {e["action"] for e in of_steps}
    newest, oldest = everything[0], everything[-1]
    assert audit(prod, since=newest["at"])[-1]["at"] >= newest["at"]
    assert audit(prod, until=oldest["at"])[0]["id"] == oldest["id"]
    assert audit(prod, until="2000-01-01T00:00:00Z") == []
    assert audit(prod, actor="token:nobody") == []


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"since": "yesterday"}, "since"),
        ({"until": "soon"}, "until"),
        ({"since": "2026-01-02T00:00:00Z", "until": "2026-01-01T00:00:00Z"}, "since"),
        ({"cursor": "not-an-id"}, "cursor"),
        ({"limit": "0"}, "limit"),
        ({"limit": "many"}, "limit"),
        ({"action": "Kill Switch!"}, "action"),
        ({"actor": "x" * 301}, "actor"),
    ],
)
def test_bad_filters_answer_400_naming_the_parameter(
    prod: CloudStack, params: dict[str, str], field: str
) -> None:
    resp = prod.api.http.get("/v1/audit", params=params)
    assert resp.status_code == 400, resp.text
    assert resp.json()["field"] == field


def test_the_audit_page_rejects_a_bad_filter_inline(prod: CloudStack) -> None:
    client, _ = dashboard_session(prod, prod.server.signing_key)
    with contextlib.closing(client):
        resp = client.get("/audit", params={"since": "yesterday"})
    assert resp.status_code == 400
    assert 'data-field="since"' in resp.text


def test_cli_key_commands_are_recorded_as_the_os_user(tmp_path: Path) -> None:
    """The CLI writes to the database itself; its entries name the operating-system user."""
    db = str(tmp_path / "cli.db")
    cmd = [sys.executable, "-m", "mainspring", "keys", "create-token", "--db", db, "deploys"]
    subprocess.run(cmd, check=True, capture_output=True, timeout=60)
    with contextlib.closing(sqlite3.connect(db)) as conn:
        rows = conn.execute("SELECT actor, action FROM audit_log").fetchall()
    assert rows == [(f"cli:{getpass.getuser()}", "api_token.create")]
