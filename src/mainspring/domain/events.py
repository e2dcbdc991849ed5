"""Events as stored and as handed to functions."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

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
