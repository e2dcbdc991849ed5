"""The client commands in one environment of a server run with `--env staging`: `--env` (before
or after the command) and MAINSPRING_ENV send `X-Inngest-Env` on every request; `envs list`;
`kill-switch … --all-envs`; and the errors: an environment the server does not serve, a bad
name, and a server with environments off (which would otherwise act in production)."""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from integration.harness import Api, AppProcess, ServerProcess, free_port, wait_until
from integration.production import EVENT_KEY, running_cloud_server

from .in_process import Result, assert_error, runner

SLUGS = ("cli-daily", "cli-steps", "cli-fails", "cli-slow")


@dataclass(frozen=True)
class Servers:
    envs: ServerProcess  # `--env staging`, the cli app deployed to staging only
    plain: ServerProcess  # environments off


def _staging(server: ServerProcess) -> Api:
    api = Api(server)
    api.http.headers["X-Inngest-Env"] = "staging"
    return api


def _synced(api: Api) -> bool:
    return set(SLUGS) <= {fn["function_id"] for fn in api.data("/v1/functions")}


@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Servers]:
    workdir = tmp_path_factory.mktemp("cli-envs")
    envs = ServerProcess(
        port=free_port(),
        db_path=workdir / "envs.db",
        log_dir=workdir,
        extra_args=["--env", "staging"],
        name="envs",
    )
    plain = ServerProcess(
        port=free_port(), db_path=workdir / "plain.db", log_dir=workdir, name="plain"
    )
    app = AppProcess(
        "cli_app",
        port=free_port(),
        server_url=envs.url,
        log_dir=workdir,
        side_effect_log=workdir / "side_effects.jsonl",
        extra_env={"INNGEST_ENV": "staging"},
    )
    try:
        envs.start()
        plain.start()
        app.start()
        assert app.sync().status_code == 200
        staging = _staging(envs)
        wait_until(
            lambda: _synced(staging) or None, timeout=20, what="the cli app synced to staging"
        )
        yield Servers(envs, plain)
    finally:
        app.stop()
        for server in (envs, plain):
            server.stop()
            server.release_db()


@pytest.fixture
def cli(
    servers: Servers, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> Any:
    monkeypatch.setenv("MAINSPRING_URL", servers.envs.url)
    monkeypatch.delenv("MAINSPRING_ENV", raising=False)
    monkeypatch.setattr("sys.stdin", io.StringIO(""))

    return runner(capsys)


def _run_ids(result: Result) -> set[str]:
    return {run["run_id"] for run in result.json()}


def test_env_sends_every_request_to_that_environment(
    servers: Servers, cli: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert cli("functions", "list", "--json").json() == [], "production has no app"
    listed = cli("--env", "staging", "functions", "list", "--json").json()
    assert set(SLUGS) <= {fn["function_id"] for fn in listed}

    sent = cli("--env", "staging", "send", "cli/steps", "--data", '{"n": 5}', "--json").json()
    staging = _staging(servers.envs)
    run = staging.run_for_event(sent["ids"][0])
    assert staging.wait_for_run_status(run["run_id"])["output"] == {"saved": 5}

    assert run["run_id"] in _run_ids(cli("runs", "list", "--env", "staging", "--json"))
    assert run["run_id"] not in _run_ids(cli("runs", "list", "--json"))
    shown = cli("--env", "staging", "runs", "show", run["run_id"])
    assert shown.code == 0 and "Completed" in shown.out
    assert_error(cli("runs", "show", run["run_id"]), 3)  # not in production

    monkeypatch.setenv("MAINSPRING_ENV", "staging")  # the option's environment twin
    assert run["run_id"] in _run_ids(cli("runs", "list", "--json"))
    # the command's own --env wins over MAINSPRING_ENV and `mainspring --env`
    assert run["run_id"] not in _run_ids(cli("runs", "list", "--env", "production", "--json"))
    assert run["run_id"] not in _run_ids(
        cli("--env", "staging", "runs", "list", "--env", "production", "--json")
    )


def test_envs_list(cli: Any) -> None:
    listed = {env["name"]: env for env in cli("envs", "list", "--json").json()}
    assert set(listed) == {"production", "staging"}
    assert listed["production"]["kind"] == "default" and listed["production"]["current"]
    assert listed["staging"]["kind"] == "configured" and listed["staging"]["served"]
    assert not listed["staging"]["current"]

    table = cli("--env", "staging", "envs", "list")
    assert table.code == 0, table.err
    lines = table.out.splitlines()
    assert lines[0].split() == "CURRENT NAME KIND SERVED CREATED ACTIVE ARCHIVED".split()
    rows = {line.split()[1]: line.split() for line in lines[1:]}
    assert rows["staging"][:4] == ["yes", "staging", "configured", "yes"]
    assert rows["production"][:4] == ["no", "production", "default", "yes"]


def test_kill_switch_in_one_environment_and_in_all(cli: Any) -> None:
    on = cli("--env", "staging", "kill-switch", "on", "--reason", "staging only", "--json").json()
    try:
        assert on["active"] is True
        assert cli("kill-switch", "status").out.strip() == "kill switch: off"
        status = cli("--env", "staging", "kill-switch", "status")
        assert status.out.startswith("kill switch: ON") and "staging only" in status.out
    finally:
        cli("--env", "staging", "kill-switch", "off")

    every = cli("kill-switch", "on", "--all-envs", "--reason", "incident 7")
    try:
        assert every.code == 0, every.err
        lines = sorted(every.out.splitlines())
        labels = [line.split(":")[0] for line in lines]
        assert labels == ["kill switch (production)", "kill switch (staging)"], every.out
        assert all(": ON (" in line and "incident 7" in line for line in lines), every.out
        glob = cli("kill-switch", "status", "--all-envs", "--json").json()
        assert glob == {"active": True, "reason": "incident 7"}
        human = cli("kill-switch", "status", "--all-envs")
        assert human.out.strip() == "kill switch (all environments): ON (reason: incident 7)"
        for env in ("production", "staging"):
            state = cli("--env", env, "kill-switch", "status", "--json").json()
            assert state["active"] is True and state["all_environments"]["active"] is True
    finally:
        off = cli("kill-switch", "off", "--all-envs", "--json").json()
    assert off["active"] is False and off["all_environments"]["active"] is False
    assert set(off["environments"]) == {"production", "staging"}
    human = cli("kill-switch", "status", "--all-envs")
    assert human.out.strip() == "kill switch (all environments): off"
    assert cli("--env", "staging", "kill-switch", "status").out.strip() == "kill switch: off"


def test_environment_errors_and_exit_codes(servers: Servers, cli: Any) -> None:
    assert_error(cli("--env", "nowhere", "runs", "list"), 3, "nowhere", "field env")
    assert_error(cli("runs", "list", "--env", "../etc"), 2, "--env", "environment name")
    assert_error(cli("--env", "a b", "runs", "list"), 2, "--env")
    # environments off: the header would be ignored and production changed; refused instead
    plain = ("--url", servers.plain.url)
    assert_error(cli("--env", "staging", "kill-switch", "on", *plain), 3, "no environment")
    assert cli("kill-switch", "status", *plain).out.strip() == "kill switch: off"
    assert_error(cli("kill-switch", "status", "--all-envs", *plain), 2, "environments off")
    assert cli("--env", "production", "functions", "list", *plain, "--json").json() == []


def test_send_with_only_an_event_key(
    tmp_path_factory: pytest.TempPathFactory, cli: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Production mode: `send` needs no API token, so the environment cannot be checked first;
    the key decides where the event goes (as in Inngest Cloud): the configured key is
    production's, so `--env staging` does not move its event."""
    workdir = tmp_path_factory.mktemp("cli-envs-prod")
    with running_cloud_server(workdir, extra_args=["--env", "staging"]) as server:
        monkeypatch.setenv("MAINSPRING_URL", server.url)
        sent = cli("--env", "staging", "send", "cli/steps", "--event-key", EVENT_KEY, "--json")
        event_id = sent.json()["ids"][0]
        admin = {"Authorization": f"Bearer {server.signing_key}"}
        for env, found in (("staging", False), ("production", True)):
            answer = httpx.get(
                f"{server.url}/v1/events/{event_id}", params={"env": env}, headers=admin
            )
            assert (answer.status_code == 200) is found, (env, answer.text)
        assert_error(cli("--env", "staging", "runs", "list"), 4)  # no token: refused as before
