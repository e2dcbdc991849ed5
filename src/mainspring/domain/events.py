"""Events as stored and as handed to functions."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from mainspring.domain.functions import FunctionDef

RESERVED_PREFIX = "inngest/"
FUNCTION_FINISHED = "inngest/function.finished"
FUNCTION_FAILED = "inngest/function.failed"
FUNCTION_CANCELLED = "inngest/function.cancelled"
FUNCTION_INVOKED = "inngest/function.invoked"
SCHEDULED_TIMER = "inngest/scheduled.timer"


@dataclass(frozen=True, slots=True)
class Event:
    internal_id: str
    id: str
    name: str
    data: dict[str, Any]
    user: dict[str, Any]
    ts: int
    v: str | None
    received_at: int

    def payload(self) -> dict[str, Any]:
        """The event as an SDK sees it."""
        body: dict[str, Any] = {
            "name": self.name,
            "data": self.data,
            "user": self.user,
            "id": self.id,
            "ts": self.ts,
        }
        if self.v is not None:
            body["v"] = self.v
        return body


def is_reserved(name: str) -> bool:
    return name.lower().startswith(RESERVED_PREFIX)


@dataclass(slots=True)
class NewEvent:
    """An accepted event, with the functions it matched (computed outside the transaction)."""

    internal_id: str
    payload: dict[str, Any]
    sender_id: str | None
    matches: list[FunctionDef] = field(default_factory=list)
    # An internal id derived from the SDK's id seed: a resend of the request carries the same
    # one, so only such events can collide with a stored event.
    seeded: bool = False
