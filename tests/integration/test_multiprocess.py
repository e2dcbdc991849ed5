"""Three Mainspring processes on one PostgreSQL database; one is killed with -9 mid-work.

The survivors take over the dead process's leased items once its leases expire
(`--lease-seconds 3`): every run completes, and no step body runs twice unless it was in flight
when the process died (the same rule as tests/integration/test_crash.py).
"""

from __future__ import annotations

import time
from collections import Counter, defaultdict

import pytest

from .harness import (
    Api,
    JSONDict,
    ServerProcess,
    SideEffects,
    postgres_cluster,
    requires_postgres_dialect,
    wait_until,
)

pytestmark = [requires_postgres_dialect(), pytest.mark.slow]

SERVERS = 3
EVENTS = 500
BATCH = 10  # events per POST, batches go round-robin to the three processes
STEPS = ("a", "b", "c")
TOTAL_BODIES = EVENTS * len(STEPS)
SLUG = "multi-three"
LEASE_SECONDS = 3
# Per process: 3 x 12 calls at once spread the 1500 bodies of 0.1 s over ~4 s, so that by the
# kill most finished steps ended long before it (a server that lost them would re-run them).
MAX_IN_FLIGHT = 12
STEP_SECONDS = 0.1
# As in test_crash.py: a body that logged END this long before the kill may still have had its
# reply in transit (SDK response → server → durable write), so a re-run is allowed.
REPLY_GRACE = 0.5
# The dead process renewed its leases every LEASE_SECONDS / 3: none can expire (and no survivor can
# take its items) sooner than ~2 s after the kill. 1 s leaves room for renewal latency.
MIN_TAKEOVER_DELAY = 1.0


def test_kill9_one_of_three_processes_every_run_completes(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    workdir = tmp_path_factory.mktemp("multiprocess")
    server_args = ["--lease-seconds", str(LEASE_SECONDS), "--max-in-flight", str(MAX_IN_FLIGHT)]
    with postgres_cluster(
        workdir,
        "multi_app",
        [SLUG],
        SERVERS,
        server_args=server_args,
        app_env={"MULTI_STEP_SECONDS": str(STEP_SECONDS)},
    ) as cluster:
        run_scenario(cluster.servers, cluster.apis, cluster.sidefx)


def run_scenario(servers: list[ServerProcess], apis: list[Api], sidefx: SideEffects) -> None:
    started = time.monotonic()
    event_ids: list[str] = []
    for n, first in enumerate(range(0, EVENTS, BATCH)):
        batch = [{"name": "multi/three", "data": {"i": i}} for i in range(first, first + BATCH)]
        event_ids += apis[n % SERVERS].send_events(batch)
    sent = time.monotonic()

    sidefx.wait_for(
        lambda es: sum(e["kind"] == "END" for e in es) >= TOTAL_BODIES // 3,
        timeout=40,
        what="a third of the step bodies to finish",
    )
    victim = servers[1]
    kill_started = time.monotonic()
    victim.kill()
    kill_done = time.monotonic()
    entries = sidefx.read()
    ended_before_kill = sum(1 for e in entries if e["kind"] == "END" and e["mono"] < kill_started)
    assert ended_before_kill < TOTAL_BODIES * 2 // 3, "the kill came too late to test anything"
    long_done = sum(
        1 for e in entries if e["kind"] == "END" and e["mono"] < kill_started - REPLY_GRACE
    )
    assert long_done >= TOTAL_BODIES // 8, (
        f"only {long_done} bodies had finished well before the kill: the test has no teeth"
    )

    survivors = [api for server, api in zip(servers, apis, strict=True) if server is not victim]
    runs = wait_for_all_completed(survivors, victim)
    done = time.monotonic()

    by_event = Counter(str(run["event_id"]) for run in runs)
    assert set(by_event) == set(event_ids), "a run is missing or belongs to an unknown event"
    assert all(n == 1 for n in by_event.values()), f"events with several runs: {by_event}"
    outputs = {int(run["output"]["i"]): run["output"] for run in runs}
    assert sorted(outputs) == list(range(EVENTS))
    for i, output in outputs.items():
        assert output["results"] == [f"{s}{i}" for s in STEPS]

    rerun_delays = check_executions(
        sidefx.read(), {str(run["run_id"]) for run in runs}, kill_started, kill_done
    )
    # Only the victim's calls can have been cut off, and it never had more than MAX_IN_FLIGHT.
    assert len(rerun_delays) <= MAX_IN_FLIGHT, (
        f"{len(rerun_delays)} bodies re-ran; the killed process had at most {MAX_IN_FLIGHT} "
        "calls in flight"
    )
    first_rerun = f"{min(rerun_delays):.1f}s" if rerun_delays else "-"
    print(
        f"sent {EVENTS} events in {sent - started:.1f}s; kill after {ended_before_kill} ENDs "
        f"({kill_started - started:.1f}s); all completed {done - kill_done:.1f}s after the kill; "
        f"{len(rerun_delays)} (run, step) bodies re-ran, the first {first_rerun} after the kill"
    )


def wait_for_all_completed(survivors: list[Api], victim: ServerProcess) -> list[JSONDict]:
    """Poll the surviving processes (in turn) until all EVENTS runs are Completed."""
    polls = [0]
    last: list[list[JSONDict]] = [[]]

    def probe() -> list[JSONDict] | None:
        api = survivors[polls[0] % len(survivors)]
        polls[0] += 1
        runs = api.list_runs(SLUG, limit=1000)
        last[0] = runs
        failed = [run for run in runs if run["status"] in {"Failed", "Cancelled"}]
        assert not failed, f"runs ended badly: {failed[:3]}"
        completed = [run for run in runs if run["status"] == "Completed"]
        return completed if len(completed) >= EVENTS else None

    def detail() -> str:
        status = Counter(str(run["status"]) for run in last[0])
        tails = "\n".join(api.server.log_tail(20) for api in survivors)
        return f"runs by status: {dict(status)}\n{tails}\n--- killed ---\n{victim.log_tail(20)}"

    return wait_until(
        probe,
        timeout=45,
        interval=0.5,
        what=f"all {EVENTS} runs to complete on the surviving processes",
        on_timeout=detail,
    )


def check_executions(
    entries: list[JSONDict], run_ids: set[str], kill_started: float, kill_done: float
) -> list[float]:
    """Pair START/END by exec_id and check the at-most-once rule for every (run, step).

    As in test_crash.py: an execution is *interrupted by the kill* when it STARTed before the
    process was dead (start < kill_done) and did not END more than REPLY_GRACE before the kill
    began. Only a (run, step) whose first execution was interrupted may run a second time, never a
    third, and the second execution cannot start before the kill (nothing else frees a lease).
    A re-run must also wait for the dead process's lease: it renewed its leases every
    LEASE_SECONDS / 3, so none expired sooner than ~2/3 of LEASE_SECONDS after the kill (checked
    with a margin: MIN_TAKEOVER_DELAY). Returns, for each (run, step) that ran twice, how long
    after the kill its second execution started.
    """
    ends = {e["exec_id"]: e for e in entries if e["kind"] == "END"}
    executions: dict[tuple[str, str], list[JSONDict]] = defaultdict(list)
    for entry in entries:
        if entry["kind"] == "START":
            executions[(entry["run_id"], entry["step"])].append(entry)

    assert {run for run, _ in executions} == run_ids
    problems: list[str] = []
    rerun_delays: list[float] = []
    for (run_id, step), starts in sorted(executions.items()):
        starts.sort(key=lambda e: e["mono"])
        last_end = ends.get(starts[-1]["exec_id"])
        if last_end is None or not last_end["ok"]:
            problems.append(f"{run_id}/{step}: last execution did not finish ok")
        if len(starts) == 1:
            continue
        first = starts[0]
        delay = starts[1]["mono"] - kill_started
        rerun_delays.append(delay)
        first_end = ends.get(first["exec_id"])
        interrupted = first["mono"] < kill_done and (
            first_end is None or first_end["mono"] > kill_started - REPLY_GRACE
        )
        if len(starts) > 2:
            problems.append(f"{run_id}/{step}: body executed {len(starts)} times")
        elif not interrupted:
            end_note = (
                "no END"
                if first_end is None
                else f"END {kill_started - first_end['mono']:.3f}s before kill"
            )
            problems.append(f"{run_id}/{step}: re-executed although not in flight ({end_note})")
        elif delay < MIN_TAKEOVER_DELAY:
            problems.append(
                f"{run_id}/{step}: second execution {delay:.2f}s after the kill, before the dead "
                "process's lease can have expired"
            )
    assert {step for _, step in executions} == set(STEPS)
    assert len(executions) == TOTAL_BODIES
    assert not problems, f"{len(problems)} problem(s):\n" + "\n".join(problems[:50])
    return rerun_delays
