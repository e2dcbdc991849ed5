"""The audit log: who did what, when and why, for every operator action.

Other features record through this module: read the actor in the async part of the service
(`actors.current()`), then `record(tx, actor, "thing.verb", at=now, …)` inside the unit of work
that performs the action, or `await record_now(connector, …)` when there is no such unit.
"""

from __future__ import annotations

from mainspring.audit.actors import acting_as, current
from mainspring.audit.entries import ACTIONS, record, record_now

__all__ = ["ACTIONS", "acting_as", "current", "record", "record_now"]
