"""Concurrency: which due queue items may be leased now, given the slots in use.

A slot is an SDK call in flight: a leased `call` item whose lease has not expired. A run that
sleeps or waits has no leased item, so it holds no slot; a worker that stays on a run keeps its
item leased, so it keeps the slot. Limits are per key string: `fn:<function>` for a function-wide
limit, `fn:<function>:<key>` for a keyed one, `env:<key>` / `account:<key>` shared by every
function that uses the same key value.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from mainspring.domain.flow import ConcurrencyLimit
from mainspring.flow import keys

OWN_PREFIX = "fn:"  # the keys of a function's own limits (scope fn), as `run_slots` builds them


@dataclass(frozen=True, slots=True)
class Candidate:
    """A due item and the (key, limit) pairs it needs a slot of."""

    id: str
    slots: tuple[tuple[str, int], ...] = ()


def run_slots(
    function_id: str, limits: Sequence[ConcurrencyLimit], event: dict[str, Any]
) -> tuple[tuple[str, int], ...]:
    """The keys a run's calls count against, from its trigger event."""
    slots = []
    for limit in limits:
        if limit.scope == "fn":
            key = keys.scoped(f"{OWN_PREFIX}{function_id}", limit.key, event)
        else:
            key = f"{limit.scope}:{keys.digest(keys.key_value(limit.key, event))}"
        slots.append((key, limit.limit))
    return tuple(slots)


def fair_order(candidates: Sequence[Candidate]) -> list[Candidate]:
    """Round-robin over keys: every key's first item before any key's second, and so on.

    The order inside a key (due time, which carries priority) is kept. Items without limits
    rank first: nothing can hold them back.
    """
    seen: dict[str, int] = {}
    ranked = []
    for position, candidate in enumerate(candidates):
        if candidate.slots:
            first = candidate.slots[0][0]
            rank = seen.get(first, 0)
            seen[first] = rank + 1
        else:
            rank = 0
        ranked.append((rank, position, candidate))
    ranked.sort(key=lambda entry: (entry[0], entry[1]))
    return [candidate for _, _, candidate in ranked]


def admit(
    candidates: Sequence[Candidate], in_use: Mapping[str, int], capacity: int
) -> tuple[list[str], bool]:
    """Ids to lease now, in order, at most `capacity`; and whether any was held back by a limit.

    Every granted item counts at once against all its keys, so one lease never overfills a key.
    """
    used = dict(in_use)
    chosen: list[str] = []
    blocked = False
    for candidate in candidates:
        if len(chosen) >= capacity:
            break
        if all(used.get(key, 0) < limit for key, limit in candidate.slots):
            for key, _ in candidate.slots:
                used[key] = used.get(key, 0) + 1
            chosen.append(candidate.id)
        else:
            blocked = True
    return chosen, blocked
