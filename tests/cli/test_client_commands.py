"""The client commands (`send`, `invoke`, `runs …`, `functions …`, `kill-switch …`) against a
running server and the official Python SDK: each command, its `--json` parsed, its table for
people, and the exit codes scripts rely on (0 ok, 1 refused, 2 usage, 3 not found,
4 unauthorized, 5 unreachable). Commands run in-process through `mainspring.cli.main`, as the
console script does; one runs as a subprocess to read stdin."""

from __future__ import annotations

import io
import subprocess
import sys
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from integration.harness import JSONDict, Stack, free_port, running_stack, wait_until

from .in_process import assert_error, runner

SLUGS = ("cli-daily", "cli-steps", "cli-fails", "cli-slow")


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    with running_stack(tmp_path_factory.mktemp("cli"), "cli_app", SLUGS) as running:
        yield running


@pytest.fixture
def cli(stack: Stack, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setenv("MAINSPRING_URL", stack.server.url)  # the flag's environment twin
    monkeypatch.setattr("sys.stdin", io.StringIO(""))  # nothing piped

    return runner(capsys)


def finished(stack: Stack, event_id: str, status: str = "Completed") -> JSONDict:
    run = stack.api.run_for_event(event_id)
    return stack.api.wait_for_run_status(run["run_id"], status, timeout=30)


def test_send_then_list_and_show_the_run(stack: Stack, cli: Any) -> None:
    sent = cli("send", "cli/steps", "--data", '{"n": 7}', "--json").json()
    run = finished(stack, sent["ids"][0])
    assert run["output"] == {"saved": 7}

    listed = cli("runs", "list", "--function", "cli-steps", "--status", "Completed", "--json")
    assert run["run_id"] in {r["run_id"] for r in listed.json()}
    table = cli("runs", "list", "--function", "cli-steps", "--since", "1h")
    assert table.code == 0 and table.out.splitlines()[0].split()[:3] == [
        "RUN",
        "FUNCTION",
        "STATUS",
    ]
    assert any(run["run_id"] in line and "Completed" in line for line in table.out.splitlines())
    queried = cli("runs", "list", "--query", "event.data.n == 7", "--json").json()
    assert run["run_id"] in {r["run_id"] for r in queried}

    trace = cli("runs", "show", run["run_id"], "--json").json()
    assert [span["name"] for span in trace["spans"]] == ["fetch", "save"]
    shown = cli("runs", "show", run["run_id"])
    assert shown.code == 0 and run["run_id"] in shown.out and "Completed" in shown.out
    assert "fetch" in shown.out and "save" in shown.out and '{"saved":7}' in shown.out
    assert "+0.000s" in shown.out, "the timeline starts at the run's first entry"


def test_send_reads_data_from_stdin(stack: Stack, tmp_path: Any) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "mainspring", "send", "cli/steps", "--url", stack.server.url],
        input='{"n": 3}',
        capture_output=True,
        text=True,
        timeout=30,
        cwd=tmp_path,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("sent cli/steps: event ")
    event_id = result.stdout.strip().rsplit(" ", 1)[-1]
    assert finished(stack, event_id)["output"] == {"saved": 3}


def test_invoke_runs_a_cron_function_now(stack: Stack, cli: Any) -> None:
    invoked = cli("invoke", "cli-daily", "--data", '{"day": "monday"}', "--json").json()
    assert invoked["run_id"], invoked
    run = stack.api.wait_for_run_status(invoked["run_id"], "Completed", timeout=30)
    assert run["output"]["data"]["day"] == "monday"
    human = cli("invoke", "cli-daily")
    assert human.code == 0 and human.out.startswith("invoked cli-daily: event ")


def test_cancel_a_sleeping_run(stack: Stack, cli: Any) -> None:
    event_id = stack.api.send_event("cli/slow")
    run = stack.api.run_for_event(event_id)
    stack.api.wait_for_run_status(run["run_id"], "Running", timeout=30)
    answer = cli("runs", "cancel", run["run_id"], "--json").json()
    assert answer == [{"run_id": run["run_id"], "status": "Cancelled"}]
    assert stack.api.get_run(run["run_id"])["status"] == "Cancelled"  # type: ignore[index]
    assert_error(cli("runs", "cancel", "01JNOSUCHRUN0000000000000"), 3, "not found")


def test_rerun_from_a_step(stack: Stack, cli: Any) -> None:
    run = finished(stack, stack.api.send_event("cli/steps", {"n": 2}))
    save = next(s for s in stack.api.run_steps(run["run_id"]) if s.get("name") == "save")
    step_id = save.get("step_id") or save["id"]
    again = cli("runs", "rerun", run["run_id"], "--from-step", step_id, "--json").json()
    assert again["original_run_id"] == run["run_id"] and again["run_id"] != run["run_id"]
    rerun = stack.api.wait_for_run_status(again["run_id"], "Completed", timeout=30)
    assert rerun["output"] == {"saved": 2}
    plain = cli("runs", "rerun", run["run_id"])
    assert plain.code == 0 and plain.out.startswith(f"rerun of {run['run_id']}: run ")


def test_replay_failed_runs_in_bulk(stack: Stack, cli: Any) -> None:
    tag = uuid.uuid4().hex
    ids = stack.api.send_events([{"name": "cli/fails", "data": {"tag": tag}} for _ in range(3)])
    for event_id in ids:
        finished(stack, event_id, "Failed")
    only_these = ("--function", "cli-fails", "--status", "Failed", "--since", "1h")
    query = ("--query", f'event.data.tag == "{tag}"')
    dry = cli("runs", "replay", *only_these, *query, "--dry-run", "--json").json()
    assert len(dry["matched"]) == 3 and dry["run_ids"] == []

    (stack.sidefx.path.parent / (stack.sidefx.path.name + ".fixed")).touch()
    human = cli("runs", "replay", *only_these, *query)
    assert human.code == 0, human.err
    assert "replaying" in human.err, "progress goes to stderr"
    assert human.out.strip() == "replayed 3 runs: 3 new runs"

    def fixed() -> bool | None:
        runs = stack.api.list_runs("cli-fails", status="Completed")
        return True if len(runs) >= 3 else None

    wait_until(fixed, timeout=30, what="the replayed runs to complete")
    assert_error(cli("runs", "replay"), 2, "--status")


def test_functions_list_pause_resume(stack: Stack, cli: Any) -> None:
    listed = {fn["function_id"]: fn for fn in cli("functions", "list", "--json").json()}
    assert set(SLUGS) <= set(listed)
    assert listed["cli-daily"]["triggers"][0]["cron"] == "0 6 * * *"
    paused = cli("functions", "pause", "cli-steps", "--reason", "deploy", "--json").json()
    assert paused["paused"] is True and paused["reason"] == "deploy"
    table = cli("functions", "list").out.splitlines()
    assert table[0].split() == ["FUNCTION", "TRIGGERS", "PAUSED", "OVERRIDES"]
    assert any(line.startswith("cli-steps") and " yes " in line for line in table)
    resumed = cli("functions", "resume", "cli-steps")
    assert resumed.code == 0 and resumed.out.startswith("cli-steps: resumed")
    assert_error(cli("functions", "pause", "cli-nope"), 3)


def test_functions_override(stack: Stack, cli: Any) -> None:
    set_ = cli("functions", "override", "cli-steps", "--concurrency", "2", "--throttle", "10/1m")
    assert set_.code == 0, set_.err
    assert set_.out.splitlines()[0].split() == ["SETTING", "SYNCED", "OVERRIDE"]
    kept = cli("functions", "override", "cli-steps", "--rate-limit", "100/1h", "--json").json()
    assert kept["overrides"] == {
        "concurrency": 2,
        "throttle": {"limit": 10, "period": "60s", "burst": 1},
        "rateLimit": {"limit": 100, "period": "3600s"},
    }, "options given change those overrides and keep the others"
    dropped = cli("functions", "override", "cli-steps", "--unset", "throttle", "--json").json()
    assert set(dropped["overrides"]) == {"concurrency", "rateLimit"}
    listed = {fn["function_id"]: fn for fn in cli("functions", "list", "--json").json()}
    assert listed["cli-steps"]["flow"]["overrides"]["concurrency"] == 2
    cleared = cli("functions", "override", "cli-steps", "--clear", "--json").json()
    assert cleared["overrides"] == {}
    assert_error(cli("functions", "override", "cli-steps", "--rate-limit", "lots"), 2)
    assert_error(cli("functions", "override", "cli-steps", "--throttle", "1/0s"), 2, "period")
    assert_error(cli("functions", "override", "cli-steps", "--clear", "--concurrency", "1"), 2)


def test_kill_switch(stack: Stack, cli: Any) -> None:
    assert cli("kill-switch", "status").out.strip() == "kill switch: off"
    on = cli("kill-switch", "on", "--reason", "incident 42", "--json").json()
    assert on["active"] is True and on["reason"] == "incident 42"
    try:
        status = cli("kill-switch", "status")
        assert status.out.startswith("kill switch: ON") and "incident 42" in status.out
    finally:
        off = cli("kill-switch", "off", "--json").json()
    assert off["active"] is False


def test_errors_and_exit_codes(stack: Stack, cli: Any) -> None:
    assert_error(cli("runs", "list", "--query", "event.data.("), 2, "query")
    assert_error(cli("invoke", "cli-nope"), 3, "cli-nope")
    assert_error(cli("send", "cli/steps", "--data", "{not json"), 2, "--data")
    assert_error(cli("send", "cli/steps", "--data", "[1]"), 2, "object")
    assert_error(cli("runs", "list", "--since", "yesterday-ish"), 2, "--since")
    assert_error(cli("runs", "show", "01JNOSUCHRUN0000000000000"), 3)
    unreachable = f"http://127.0.0.1:{free_port()}"
    assert_error(cli("runs", "list", "--url", unreachable), 5, "cannot reach")
