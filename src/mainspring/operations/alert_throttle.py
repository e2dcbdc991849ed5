"""Each channel's throttle, as a pure decision: what to tell one channel about one rule now.

The policy, per rule and per channel:
- at most one "firing" message per throttle period (`fired_at` is when the last one went out);
- every "firing" that went out gets exactly one "resolved" when the rule clears, at once, so a
  reader is never left believing something is still broken;
- a trip inside the period is held back and counted; if the rule still fires when the period
  ends, the "firing" goes out then, saying how many trips were held back meanwhile.

A flapping rule therefore costs a channel at most two messages per period. A throttle of 0 posts
every transition (the generic webhook's default).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


class Say(Enum):
    NOTHING = "nothing"
    FIRING = "firing"
    RESOLVED = "resolved"


@dataclass(frozen=True, slots=True)
class Delivery:
    """What a channel was last told about a rule."""

    announced: bool = False  # the channel's last message about the rule said "firing"
    fired_at: int | None = None  # when that message went out (epoch ms)
    suppressed: int = 0  # trips held back since the last "firing" message


def decide(
    delivery: Delivery, firing: bool, tripped: bool, now: int, throttle_ms: int
) -> tuple[Say, Delivery]:
    """The message for the channel now, and what it will have been told after it.

    `firing`: the rule fires now; `tripped`: it started firing in this very evaluation. A
    "firing" message reports `delivery.suppressed`, the trips held back before it.
    """
    if firing and not delivery.announced:
        if delivery.fired_at is None or now - delivery.fired_at >= throttle_ms:
            return Say.FIRING, Delivery(True, now, 0)  # the message tells the held-back count
        held = delivery.suppressed + (1 if tripped else 0)
        return Say.NOTHING, Delivery(False, delivery.fired_at, held)
    if not firing and delivery.announced:
        return Say.RESOLVED, Delivery(False, delivery.fired_at, 0)
    return Say.NOTHING, delivery
