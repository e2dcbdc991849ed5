"""Environments through the official TypeScript SDK: the same Node app deployed to production
and with `INNGEST_ENV=staging` on one server. The SDK sends `X-Inngest-Env` on its sync and on
its checkpoints (`/v1/checkpoint/…`), so a checkpointing run lands and stays in its own
environment; each environment calls only its own deployment."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from integration.environments_kit import env_api, until
from integration.harness import Api, ServerProcess, SideEffects, free_port

from .ts_harness import NodeAppProcess

CHAIN = "ts-app-chain"


@dataclass
class Deployment:
    app: NodeAppProcess
    api: Api
    sidefx: SideEffects


@pytest.fixture(scope="module")
def deployments(
    node_app: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, Deployment]]:
    workdir = tmp_path_factory.mktemp("ts-envs")
    server = ServerProcess(
        port=free_port(),
        db_path=workdir / "mainspring.db",
        log_dir=workdir,
        extra_args=["--env", "staging"],
    )
    server.start()
    found: dict[str, Deployment] = {}
    try:
        for env in ("production", "staging"):
            sidefx = workdir / f"{env}.jsonl"
            app = NodeAppProcess(
                port=free_port(),
                server_url=server.url,
                log_dir=workdir,
                side_effect_log=sidefx,
                checkpointing=True,
                extra_env={"INNGEST_ENV": env} if env != "production" else {},
                name=f"node-{env}",
            )
            app.start()
            found[env] = Deployment(
                app, env_api(server, None if env == "production" else env), SideEffects(sidefx)
            )
            assert app.sync().status_code == 200
        for deployment in found.values():
            until(
                lambda d=deployment: (
                    CHAIN in {f["function_id"] for f in d.api.data("/v1/functions")}
                ),
                timeout=30,
                what="the Node app synced",
            )
        yield found
    finally:
        for deployment in found.values():
            deployment.app.stop()
        server.stop()
        server.release_db()


def test_checkpointing_runs_stay_in_their_environment(deployments: dict[str, Deployment]) -> None:
    runs = {}
    for env, deployment in deployments.items():
        event_id = deployment.api.send_event("ts/chain", {"n": 1})
        runs[env] = str(deployment.api.run_for_event(event_id)["run_id"])
    for env, deployment in deployments.items():
        run = deployment.api.wait_for_run_status(runs[env], timeout=30)
        assert run["output"] == {"total": 25}
        steps = [step["name"] for step in deployment.api.run_steps(runs[env])]
        assert steps == ["one", "two", "three"]
        # the run's step bodies ran in this environment's deployment only
        assert {r.get("run_id") for r in deployment.sidefx.select(kind="START")} == {runs[env]}
    assert deployments["production"].api.get_run(runs["staging"]) is None
    assert deployments["staging"].api.get_run(runs["production"]) is None
