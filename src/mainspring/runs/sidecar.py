"""Recording what rides beside an SDK's opcodes (`protocol.sidecar`): defers and step metadata.

`record` runs inside the unit that records a reply or a checkpoint (the same transaction), so a
defer reported with a run's last answer is stored before the run ends and emits its event.
"""

from __future__ import annotations

from mainspring.domain import defers
from mainspring.protocol.sidecar import Sidecar
from mainspring.store.base import Tx
from mainspring.store.repos import defers as defers_repo
from mainspring.store.repos import metadata as metadata_repo


def record(
    tx: Tx, run_id: str, sidecar: Sidecar, now: int, known: dict[str, str] | None = None
) -> None:
    """Store `sidecar` of a running run; `known`: the caller's map of the run's defers (hashed
    id → status), kept up to date so that the run's end knows to look for live ones."""
    for defer in sidecar.defers:
        if isinstance(defer, defers.DeferAdd):
            defers_repo.add(tx, run_id, defer, now)
            if known is not None:
                known.setdefault(defer.hashed_id, defers.LIVE)
        else:
            defers_repo.abort(tx, run_id, defer, now)
            if known is not None:
                known[defer.hashed_id] = defers.ABORTED
    for update in sidecar.metadata:
        metadata_repo.add_later(tx, run_id, update, now)
