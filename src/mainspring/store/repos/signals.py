"""Signal waits: at most one run waits on a signal name, found by that name in one look-up.

A wait is a pause of kind "signal" (so a run's end, retention and the zombie check treat it as
any pause) stored under `event_name` = the signal name and `match_field` = `@signal`, a field no
event expression yields: events never match it. A unique index on the name among `@signal`
pauses is the arbiter between processes; a wait that was replaced ("conflict: replace") or is
past its expiry is released (`@signal-released`) and stays until its own timeout resumes it.
"""

from __future__ import annotations

from dataclasses import dataclass

from mainspring.store.base import Row, Tx

# A second look after an insert lost to a wait another process committed meanwhile.
CLAIM_ATTEMPTS = 3


@dataclass(frozen=True, slots=True)
class SignalWait:
    pause_id: str
    run_id: str
    step_id: str
    step_name: str | None
    expires_at: int


@dataclass(frozen=True, slots=True)
class Claim:
    """The outcome of a new wait: `taken`, or held by `holder` (a live wait of another run).
    `replaced`: the live wait this one took the name from."""

    taken: bool
    holder: SignalWait | None = None
    replaced: SignalWait | None = None


def _wait(row: Row) -> SignalWait:
    return SignalWait(
        pause_id=row["id"],
        run_id=row["run_id"],
        step_id=row["step_id"],
        step_name=row["step_name"],
        expires_at=int(row["expires_at"]),
    )


def waiting(tx: Tx, signal: str) -> SignalWait | None:
    """The wait holding `signal`, if any (possibly past its expiry: check `expires_at`)."""
    row = tx.fetchone("signal_pause", {"signal": signal})
    return None if row is None else _wait(row)


def claim(tx: Tx, wait: SignalWait, signal: str, now: int, *, replace: bool) -> Claim:
    """Store `wait` under `signal`. A live wait of the name is a conflict, unless `replace`."""
    replaced = None
    for _ in range(CLAIM_ATTEMPTS):
        current = waiting(tx, signal)
        if current is not None and current.pause_id == wait.pause_id:
            return Claim(True, replaced=replaced)  # recorded already (a reply delivered twice)
        if current is not None:
            live = current.expires_at > now
            if live and not replace:
                return Claim(False, holder=current)
            tx.execute("release_signal_pause", {"id": current.pause_id})
            replaced = current if live else replaced
        inserted = tx.execute(
            "insert_signal_pause",
            {
                "id": wait.pause_id,
                "run_id": wait.run_id,
                "step_id": wait.step_id,
                "step_name": wait.step_name,
                "signal": signal,
                "now": now,
                "expires_at": wait.expires_at,
            },
        )
        if inserted or tx.fetchone("get_pause", {"id": wait.pause_id}) is not None:
            return Claim(True, replaced=replaced)  # (or recorded already, then released)
    holder = waiting(tx, signal)
    return Claim(False, holder=holder)
