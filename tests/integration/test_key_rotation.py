"""Rotating the signing key without a failed run, following README "Rotating the signing key".

Old key O, new key N. 1: apps get N with fallback O; 2: the server gets N with fallback O;
3: apps drop the fallback; 4: the server drops it. A run sleeping across the switches and a run
at every stage must complete.
"""

from __future__ import annotations

from pathlib import Path

from .production import CloudStack, new_signing_key, running_cloud_stack
from .test_production import PROD_FUNCTIONS


def _restart_app(stack: CloudStack, key: str, fallback: str | None) -> None:
    stack.app.stop()
    stack.app.extra_env["INNGEST_SIGNING_KEY"] = key
    stack.app.extra_env.pop("INNGEST_SIGNING_KEY_FALLBACK", None)
    if fallback:
        stack.app.extra_env["INNGEST_SIGNING_KEY_FALLBACK"] = fallback
    stack.app.start()


def _restart_server(stack: CloudStack, key: str, fallback: str | None) -> None:
    stack.server.stop()
    stack.server.signing_key = key
    stack.server.fallback = fallback
    stack.server.start()
    stack.api.reset()


def test_rotation_with_a_fallback_key_fails_no_run(tmp_path: Path) -> None:
    old, new = new_signing_key(), new_signing_key()
    # The one app is down while it restarts; a call due then (the sleeper wakes after 6 s) is
    # retried, and the retries must outlast a restart on a loaded machine: 1 s doubling (1+2+4 s)
    # rather than the suite's 0.2 s (CI failed once with ConnectionRefused after 1.4 s of them).
    with running_cloud_stack(
        tmp_path,
        "prod_app",
        functions=PROD_FUNCTIONS,
        signing_key=old,
        server_args=["--backoff-base", "1"],
    ) as stack:
        api = stack.api
        sleeping = api.send_event("prod/sleep", {"seconds": 6})
        sleeper_run = str(api.run_for_event(sleeping)["run_id"])
        api.trigger_and_wait("prod/chain", {"n": 0})

        _restart_app(stack, new, old)  # 1. apps know both
        api.trigger_and_wait("prod/chain", {"n": 1}, timeout=30)

        _restart_server(stack, new, old)  # 2. the server signs with the new key
        api.trigger_and_wait("prod/chain", {"n": 2}, timeout=30)
        assert api.trigger_and_wait("prod/bulky", timeout=30)["output"] == 6000

        _restart_app(stack, new, None)  # 3. apps forget the old key
        api.trigger_and_wait("prod/chain", {"n": 3}, timeout=30)

        _restart_server(stack, new, None)  # 4. so does the server
        api.trigger_and_wait("prod/chain", {"n": 4}, timeout=30)

        run = api.wait_for_run_status(sleeper_run, "Completed", timeout=40)
        assert run["output"] == "after"
        failed = [
            r
            for fn in ("prod-chain", "prod-bulky", "prod-sleeper")
            for r in api.list_runs(fn)
            if r["status"] != "Completed"
        ]
        assert failed == []
