"""schemathesis against our own `/openapi.json`, served by a real dev server and a real
production server (admin bearer token): every documented operation, fuzzed in bounded time.

Checked on every response: no 5xx (server errors are bugs), the status code is one the document
lists, the body matches the documented content type and schema, and a method the document does
not list answers 405 with the documented methods in `Allow`. What this found is kept as plain
regression tests in test_fuzz_http.py, replayed without schemathesis' randomness.

The document is loaded in-process (`document()`, the same data the servers serve, which the first
test checks): schemathesis' lazy pytest loader (`from_fixture`) breaks on pytest 9.2, and a
document loaded at import time gives one test per operation.

Bounded and deterministic: a fixed number of examples per operation, derandomized generation,
no example database. The servers are throwaway (kill switch, pauses, replays and cancellations
hit them) and are stopped when the module ends. No outbound calls: `POST /v1/admin/apps` is
fuzzed only in production, where `--app-url-allow` keeps every fuzzed URL from being called, and
the one registered function's app URL is the discard port on loopback.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
    unsupported_method,
)

from mainspring.api.openapi_spec import document

from .harness import ServerProcess, free_port
from .production import EVENT_KEY, CloudServer, bearer, running_cloud_server

EXAMPLES = 25  # per operation (the coverage phase adds its boundary cases on top)
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    unsupported_method,
]
ALLOWED_APP_URL = "http://127.0.0.1:9/api/inngest"  # nothing listens on the discard port
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)


TARGET = "fuzz-target"  # a function registered on the production server (see cloud_server)
TARGET_URL = f"{ALLOWED_APP_URL}?fnId={TARGET}&stepId=step"


def _config(*, target: bool = False) -> schemathesis.Config:
    """Deterministic generation; with `target`, half the function ids are a registered one, so
    pause, resume, metrics and invoke get past their 404 and fuzz what follows."""
    config: dict[str, Any] = {
        "generation": {"deterministic": True, "max-examples": EXAMPLES, "database": "none"}
    }
    if target:
        binding = {"dictionary": "functions", "probability": 0.5}
        config["dictionaries"] = {"functions": {"values": [TARGET]}}
        config["parameters"] = {"path.function_id": binding, "path.slug": binding}
    return schemathesis.Config.from_dict(config)


@pytest.fixture(scope="module")
def dev_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    workdir: Path = tmp_path_factory.mktemp("schemathesis-dev")
    server = ServerProcess(port=free_port(), db_path=workdir / "ms.db", log_dir=workdir)
    with server.serving():
        yield server


@pytest.fixture(scope="module")
def cloud_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CloudServer]:
    workdir = tmp_path_factory.mktemp("schemathesis-cloud")
    with running_cloud_server(workdir, extra_args=["--app-url-allow", ALLOWED_APP_URL]) as server:
        _register_target(server)
        yield server


def _register_target(server: CloudServer) -> None:
    """One function whose app URL nothing answers: its runs fail after their retries."""
    step = {"id": "step", "name": "step", "runtime": {"type": "http", "url": TARGET_URL}}
    payload = {
        "appName": "fuzz",
        "url": ALLOWED_APP_URL,
        "v": "0.1",
        "functions": [
            {
                "id": TARGET,
                "name": "target",
                "triggers": [{"event": "fuzz/target"}],
                "steps": {"step": step},
            }
        ],
    }
    resp = httpx.post(f"{server.url}/fn/register", json=payload, headers=bearer(server.signing_key))
    assert resp.status_code == 200, resp.text
    functions = httpx.get(f"{server.url}/v1/functions/{TARGET}/pause", headers=_admin(server))
    assert functions.status_code == 200, functions.text


def _admin(server: CloudServer) -> dict[str, str]:
    return {"Authorization": f"Bearer {server.signing_key}"}


dev = schemathesis.openapi.from_dict(document(), config=_config()).exclude(path="/v1/admin/apps")
# `/auth/session` takes no input and needs a login cookie: without one it redirects to /login.
cloud = schemathesis.openapi.from_dict(
    document(production=True), config=_config(target=True)
).exclude(path="/auth/session")


def test_servers_serve_these_documents(
    dev_server: ServerProcess, cloud_server: CloudServer
) -> None:
    """What is fuzzed here is what each server serves at `/openapi.json`."""
    served = httpx.get(f"{dev_server.url}/openapi.json")
    assert served.json() == json.loads(json.dumps(document()))
    served = httpx.get(f"{cloud_server.url}/openapi.json", headers=_admin(cloud_server))
    assert served.json() == json.loads(json.dumps(document(production=True)))


@dev.parametrize()
@FUZZ
def test_dev_server(case: schemathesis.Case, dev_server: ServerProcess) -> None:
    case.call_and_validate(base_url=dev_server.url, checks=CHECKS, timeout=30)


@cloud.parametrize()
@FUZZ
def test_production_server(case: schemathesis.Case, cloud_server: CloudServer) -> None:
    headers = _admin(cloud_server)
    if case.path == "/e/{key}":  # a valid key, so that the body reaches the event parser
        case.path_parameters = {**(case.path_parameters or {}), "key": EVENT_KEY}
    elif case.path == "/v1/events" and case.method == "POST":
        headers = {"Authorization": f"Bearer {EVENT_KEY}"}
    case.call_and_validate(base_url=cloud_server.url, checks=CHECKS, headers=headers, timeout=30)


def test_servers_survive(dev_server: ServerProcess, cloud_server: CloudServer) -> None:
    for server in (dev_server, cloud_server):
        assert server.running
        assert httpx.get(f"{server.url}/health", timeout=5).status_code == 200
