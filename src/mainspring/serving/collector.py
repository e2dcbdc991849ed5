"""The server process's garbage collector, set once when the server starts.

CPython starts a young collection every 700 net container allocations and an older one every
tenth of those; a server with thousands of long-lived objects (the app, its routes, the runs in
flight) re-traverses the survivors each time. Measured with py-spy `--native --gil` on
bench/bench_scaling.py (PostgreSQL, one process, 2026-12-03): 14 % of the server's GIL time was
the collector, triggered from whatever allocated next (opcode decisions, row dicts, replies).

What start-up built lives as long as the process: it is frozen out of every later collection,
and collections start ~70x less often. Memory held by garbage cycles is bounded by the young
threshold (some thousands of small objects)."""

from __future__ import annotations

import gc

THRESHOLDS = (50_000, 20, 100)
_tuned = False


def tune() -> None:
    """Collect start-up's garbage, freeze the rest, raise the thresholds (once per process)."""
    global _tuned
    if _tuned:
        return
    _tuned = True
    gc.collect()  # garbage made while starting is freed, not frozen
    gc.freeze()
    gc.set_threshold(*THRESHOLDS)
