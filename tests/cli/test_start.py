"""`mainspring start`: refuses to run without keys, reads flags/environment/config file, never
prints a key, and `dev` on a public interface warns."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import httpx
import pytest

from integration.harness import free_port, wait_until

KEY = "signkey-prod-" + "5e" * 32


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("INNGEST_", "MAINSPRING_"))}
    return {**env, **extra}


def _run(args: Sequence[str], cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mainspring", *args],
        cwd=cwd,
        env=_env(**env),
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )


@pytest.mark.parametrize(
    ("args", "env", "message"),
    [
        ([], {}, "a signing key is required"),
        ([], {"INNGEST_EVENT_KEY": "ek"}, "a signing key is required"),
        ([], {"INNGEST_SIGNING_KEY": KEY}, "at least one event key is required"),
        (["--signing-key", "not-hex"], {"INNGEST_EVENT_KEY": "ek"}, "--signing-key must be hex"),
        (
            ["--signing-key-fallback", "zz"],
            {"INNGEST_SIGNING_KEY": KEY, "MAINSPRING_EVENT_KEY": "ek"},
            "--signing-key-fallback must be hex",
        ),
    ],
)
def test_start_refuses_to_run_without_valid_keys(
    tmp_path: Path, args: list[str], env: dict[str, str], message: str
) -> None:
    result = _run(["start", "--db", str(tmp_path / "db"), *args], tmp_path, **env)
    assert result.returncode == 2, result.stderr
    assert message in result.stderr
    assert "Traceback" not in result.stderr
    assert KEY not in result.stderr + result.stdout


def _serve(args: Sequence[str], cwd: Path, **env: str) -> tuple[subprocess.Popen[str], int]:
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "mainspring", *args, "--port", str(port)],
        cwd=cwd,
        env=_env(**env),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )

    def up() -> bool | None:
        assert proc.poll() is None, proc.communicate()[1]
        try:
            return True if httpx.get(f"http://127.0.0.1:{port}/health").status_code else None
        except httpx.TransportError:
            return None

    wait_until(up, timeout=30, what="server up")
    return proc, port


def _stop(proc: subprocess.Popen[str]) -> str:
    proc.terminate()
    _, err = proc.communicate(timeout=30)
    return err


def test_keys_from_a_config_file_and_never_in_the_log(tmp_path: Path) -> None:
    config = tmp_path / "mainspring.toml"
    config.write_text(f'signing-key = "{KEY}"\nevent-key = ["cron-key", "app-key"]\n')
    proc, port = _serve(
        ["start", "--host", "127.0.0.1", "--db", str(tmp_path / "db"), "--config", str(config)],
        tmp_path,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        for key in ("cron-key", "app-key"):
            assert httpx.post(f"{base}/e/{key}", json={"name": "a/b"}).status_code == 200
        assert httpx.post(f"{base}/e/other", json={"name": "a/b"}).status_code == 401
        assert httpx.get(f"{base}/health").json()["mode"] == "cloud"
        assert (
            httpx.get(f"{base}/dev", headers={"Authorization": f"Bearer {KEY}"}).status_code == 404
        )
    finally:
        log = _stop(proc)
    assert KEY[13:] not in log and "cron-key" not in log
    assert "sha256:" in log


def test_flags_win_over_the_environment_and_the_config_file(tmp_path: Path) -> None:
    config = tmp_path / "c.toml"
    config.write_text('event-key = ["from-file"]\n')
    proc, port = _serve(
        ["start", "--host", "127.0.0.1", "--db", str(tmp_path / "db"), "--config", str(config)],
        tmp_path,
        INNGEST_SIGNING_KEY=KEY,
        INNGEST_EVENT_KEY="from-env",
    )
    try:
        base = f"http://127.0.0.1:{port}"
        assert httpx.post(f"{base}/e/from-env", json={"name": "a/b"}).status_code == 200
        assert httpx.post(f"{base}/e/from-file", json={"name": "a/b"}).status_code == 401
    finally:
        _stop(proc)


def test_dev_on_a_public_interface_warns(tmp_path: Path) -> None:
    proc, _ = _serve(
        ["dev", "--host", "0.0.0.0", "--db", str(tmp_path / "db"), "--no-discovery"], tmp_path
    )
    time.sleep(0.2)
    log = _stop(proc)
    assert "dev mode has no authentication" in log


def test_a_single_event_key_string_in_the_config_file(tmp_path: Path) -> None:
    config = tmp_path / "c.toml"
    config.write_text(f'signing_key = "{KEY}"\nevent_key = "only-one"\n')
    proc, port = _serve(
        ["start", "--host", "127.0.0.1", "--db", str(tmp_path / "db"), "--config", str(config)],
        tmp_path,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        assert httpx.post(f"{base}/e/only-one", json={"name": "a/b"}).status_code == 200
        assert httpx.post(f"{base}/e/o", json={"name": "a/b"}).status_code == 401
    finally:
        _stop(proc)


def test_keys_commands_create_list_and_revoke(tmp_path: Path) -> None:
    db = str(tmp_path / "db")
    made = _run(["keys", "create-event-key", "--db", db, "cron"], tmp_path)
    assert made.returncode == 0, made.stderr
    key = made.stdout.strip().rsplit(" ", 1)[-1]
    token_made = _run(["keys", "create-token", "--db", db, "--scope", "admin", "ops"], tmp_path)
    token = token_made.stdout.strip().rsplit(" ", 1)[-1]
    listed = _run(["keys", "list", "--db", db], tmp_path)
    assert "event-key" in listed.stdout and "cron" in listed.stdout and "ops admin" in listed.stdout
    assert key not in listed.stdout and token not in listed.stdout

    proc, port = _serve(
        ["start", "--host", "127.0.0.1", "--db", db],
        tmp_path,
        INNGEST_SIGNING_KEY=KEY,
        INNGEST_EVENT_KEY="configured",
    )
    try:
        base = f"http://127.0.0.1:{port}"
        assert httpx.post(f"{base}/e/{key}", json={"name": "a/b"}).status_code == 200
        auth = {"Authorization": f"Bearer {token}"}
        assert httpx.get(f"{base}/v1/admin/event-keys", headers=auth).status_code == 200
    finally:
        _stop(proc)

    revoked = _run(["keys", "revoke", "--db", db, "event-key", "cron"], tmp_path)
    assert revoked.returncode == 0, revoked.stderr
    again = _run(["keys", "revoke", "--db", db, "event-key", "cron"], tmp_path)
    assert again.returncode == 2 and "no active event-key cron" in again.stderr
    assert "revoked" in _run(["keys", "list", "--db", db], tmp_path).stdout


def test_keys_commands_take_an_environment(tmp_path: Path) -> None:
    """`--env` names an environment the database knows: staging only once a server started with
    `--env staging`; the key's events then go to staging, and the token reaches staging only."""
    db = str(tmp_path / "db")
    early = _run(["keys", "create-event-key", "--db", db, "--env", "staging", "stg"], tmp_path)
    assert early.returncode == 2 and "--env: environment 'staging' is not known" in early.stderr
    bad = _run(["keys", "create-token", "--db", db, "--env", "../x", "t"], tmp_path)
    assert bad.returncode == 2 and "--env: an environment name" in bad.stderr, bad.stderr
    start = ["start", "--host", "127.0.0.1", "--db", db, "--env", "staging"]
    keys = {"INNGEST_SIGNING_KEY": KEY, "INNGEST_EVENT_KEY": "configured"}
    _stop(_serve(start, tmp_path, **keys)[0])  # records the environment in the database

    made = _run(["keys", "create-event-key", "--db", db, "--env", "staging", "stg"], tmp_path)
    assert made.returncode == 0, made.stderr
    key = made.stdout.strip().rsplit(" ", 1)[-1]
    token_made = _run(
        ["keys", "create-token", "--db", db, "--env", "staging", "stg-read"], tmp_path
    )
    assert token_made.returncode == 0 and "staging" in token_made.stdout, token_made.stderr
    token = token_made.stdout.strip().rsplit(" ", 1)[-1]
    listed = _run(["keys", "list", "--db", db], tmp_path).stdout
    assert "stg env=staging" in listed and "stg-read read envs=staging" in listed, listed

    proc, port = _serve(start, tmp_path, **keys)
    try:
        base = f"http://127.0.0.1:{port}"
        sent = httpx.post(f"{base}/e/{key}", json={"name": "a/b", "data": {"n": 1}})
        assert sent.status_code == 200, sent.text
        auth = {"Authorization": f"Bearer {token}"}
        staging = httpx.get(f"{base}/v1/events", params={"env": "staging"}, headers=auth)
        assert staging.status_code == 200, staging.text
        assert [event["name"] for event in staging.json()["data"]] == ["a/b"]
        prod = httpx.get(f"{base}/v1/events", headers={"Authorization": f"Bearer {KEY}"})
        assert prod.status_code == 200 and prod.json()["data"] == [], prod.text
        refused = httpx.get(f"{base}/v1/events", params={"env": "production"}, headers=auth)
        assert refused.status_code == 403, refused.text
        # naming no environment, the token's own (staging) answers
        unnamed = httpx.get(f"{base}/v1/events", headers=auth)
        assert unnamed.status_code == 200, unnamed.text
        assert unnamed.json()["data"] == staging.json()["data"]
    finally:
        _stop(proc)


def test_the_config_file_reaches_alerts_and_retention(tmp_path: Path) -> None:
    """One schema: `start --config` sets the alert rules too (an expected period that no run can
    meet fires at once), and the environment still wins over the file."""
    config = tmp_path / "c.toml"
    config.write_text(
        f'signing-key = "{KEY}"\nevent-key = "ek"\n'
        '[alerts]\ninterval = "100ms"\ndead_letters = 0\n'
        '[alerts.expected]\n"never-runs" = "1ms"\n'
        '[retention]\nmax_age = "off"\n'
    )
    proc, port = _serve(
        ["start", "--host", "127.0.0.1", "--db", str(tmp_path / "db"), "--config", str(config)],
        tmp_path,
        MAINSPRING_ALERT_DEAD_LETTERS="1000",
    )
    try:
        auth = {"Authorization": f"Bearer {KEY}"}

        def firing() -> set[str] | None:
            health = httpx.get(f"http://127.0.0.1:{port}/v1/health", headers=auth)
            assert health.status_code == 200, health.text
            rules = {a["rule"] for a in health.json()["data"]["alerts"] if a["state"] == "firing"}
            return rules or None

        rules = wait_until(firing, timeout=20, what="the alert from the config file")
        assert rules == {"no_success:never-runs"}  # dead_letters came from the environment
    finally:
        _stop(proc)


def test_client_commands_take_a_token_and_an_event_key(tmp_path: Path) -> None:
    db = str(tmp_path / "db")
    tokens = {}
    for scope in ("read", "admin"):
        made = _run(["keys", "create-token", "--db", db, "--scope", scope, scope], tmp_path)
        tokens[scope] = made.stdout.strip().rsplit(" ", 1)[-1]
    proc, port = _serve(
        ["start", "--host", "127.0.0.1", "--db", db],
        tmp_path,
        INNGEST_SIGNING_KEY=KEY,
        INNGEST_EVENT_KEY="ek",
    )
    url = f"http://127.0.0.1:{port}"
    try:
        anonymous = _run(["kill-switch", "status", "--url", url], tmp_path)
        assert anonymous.returncode == 4 and "401" in anonymous.stderr, anonymous.stderr
        reader = {"MAINSPRING_URL": url, "MAINSPRING_TOKEN": tokens["read"]}
        status = _run(["kill-switch", "status"], tmp_path, **reader)
        assert status.returncode == 0 and status.stdout.strip() == "kill switch: off"
        refused = _run(["kill-switch", "on"], tmp_path, **reader)
        assert refused.returncode == 4 and "403" in refused.stderr, refused.stderr
        admin = {"MAINSPRING_URL": url, "MAINSPRING_TOKEN": tokens["admin"]}
        assert _run(["functions", "list", "--json"], tmp_path, **admin).stdout.strip() == "[]"
        sent = _run(["send", "a/b", "--data", "{}"], tmp_path, INNGEST_EVENT_KEY="ek", **reader)
        assert sent.returncode == 0, sent.stderr
        wrong = _run(["send", "a/b", "--event-key", "nope", "--url", url], tmp_path)
        assert wrong.returncode == 4, wrong.stderr
    finally:
        _stop(proc)
