"""Idle latency, Connect vs HTTP serve, interleaved: event -> first call and the 3-step run.

Usage (from the repository root)::

    .venv/bin/python bench/bench_connect_latency.py [--runs 200]

bench_core.py measures its targets one after the other, so on a shared machine the load of the
moment decides which looks faster. Here both stacks run at once (each a fresh server on its own
SQLite file with its app: ``sdk`` = the Python SDK app served over HTTP, ``connect`` = the same
function on a Python ``connect()`` worker) and the sequential runs alternate between them, one at
a time, the order flipping every pair: each pair sees the same moment's load. Per target: p50/p90
of event -> first call (the call's arrival at the app process, stamped as bench_core.py does) and
of event -> final call; per pair, the ratio connect / sdk, whose median is the figure.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

from bench_core import PROCS, Session, phase_warmup, save_json, summary_ms


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--runs", type=int, default=200, help="sequential runs per target")
    p.add_argument("--warmup", type=int, default=50)
    p.add_argument("--timeout", type=float, default=120.0)
    p.add_argument("--json-out", type=Path, default=None)
    args = p.parse_args(argv)
    # what bench_core.Session reads
    args.server_arg, args.server_pythonpath, args.profile = [], "", False
    return args


def one_run(s: Session, i: int, deadline_s: float) -> tuple[float, float]:
    sent_at = s.send("seq", 1, i)
    s.wait_final("seq", i + 1, deadline_s)
    runs = s.runs_of(s.app_stats(), "seq").values()
    run = next(r for r in runs if r.get("sent_at") == sent_at)  # the event carries its sent_at
    return run["first"] - sent_at, run["final"] - sent_at


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    base = Path(tempfile.mkdtemp(prefix="mainspring-bench-connect-"))
    sessions = {}
    try:
        for target, app_id in (("sdk", "bench-sdk"), ("connect", "bench-connect")):
            workdir = base / target
            workdir.mkdir()
            sessions[target] = s = Session(target=target, app_id=app_id, workdir=workdir, args=args)
            s.start()
            phase_warmup(s, args.warmup)
        first: dict[str, list[float]] = {t: [] for t in sessions}
        final: dict[str, list[float]] = {t: [] for t in sessions}
        ratios_first, ratios_final = [], []
        for i in range(args.runs):
            order = ("sdk", "connect") if i % 2 == 0 else ("connect", "sdk")
            pair = {}
            for target in order:
                pair[target] = one_run(sessions[target], i, args.timeout)
                first[target].append(pair[target][0])
                final[target].append(pair[target][1])
                time.sleep(0.005)  # both servers idle again before the next run
            ratios_first.append(pair["connect"][0] / pair["sdk"][0])
            ratios_final.append(pair["connect"][1] / pair["sdk"][1])
    finally:
        for s in sessions.values():
            s.stop()
        PROCS.stop_all()
        shutil.rmtree(base, ignore_errors=True)
    result = {
        "runs": args.runs,
        "event_to_first_call": {t: summary_ms(v) for t, v in first.items()},
        "event_to_final_call": {t: summary_ms(v) for t, v in final.items()},
        "median_ratio_connect_to_sdk": {
            "first_call": statistics.median(ratios_first),
            "final_call": statistics.median(ratios_final),
        },
    }
    for what in ("event_to_first_call", "event_to_final_call"):
        row = result[what]
        print(
            f"{what}: p50 sdk {row['sdk']['p50_ms']:.2f} ms, connect {row['connect']['p50_ms']:.2f}"
            f" ms; p90 sdk {row['sdk']['p90_ms']:.2f}, connect {row['connect']['p90_ms']:.2f}"
        )
    print("median per-pair ratio connect/sdk:", json.dumps(result["median_ratio_connect_to_sdk"]))
    print(f"results saved to {save_json(result, args.json_out)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
