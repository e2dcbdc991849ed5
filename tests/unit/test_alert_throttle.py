"""The per-channel throttle as a table: what a channel is told about one rule, and when."""

from __future__ import annotations

import pytest

from mainspring.operations.alert_throttle import Delivery, Say, decide

T = 600_000  # a 10-minute throttle
NOW = 1_700_000_000_000
NEVER = Delivery()
ANNOUNCED = Delivery(announced=True, fired_at=NOW - 1000)
RECENTLY_CLEARED = Delivery(announced=False, fired_at=NOW - 1000)
LONG_AGO_CLEARED = Delivery(announced=False, fired_at=NOW - T)


@pytest.mark.parametrize(
    ("before", "firing", "tripped", "say", "after"),
    [
        (NEVER, True, True, Say.FIRING, Delivery(True, NOW, 0)),
        (NEVER, False, False, Say.NOTHING, NEVER),
        (ANNOUNCED, True, False, Say.NOTHING, ANNOUNCED),  # still firing: said already
        (ANNOUNCED, False, False, Say.RESOLVED, Delivery(False, NOW - 1000, 0)),
        # A trip inside the period is held back and counted; a clear of it says nothing.
        (RECENTLY_CLEARED, True, True, Say.NOTHING, Delivery(False, NOW - 1000, 1)),
        (Delivery(False, NOW - 1000, 1), False, False, Say.NOTHING, Delivery(False, NOW - 1000, 1)),
        (Delivery(False, NOW - 1000, 1), True, True, Say.NOTHING, Delivery(False, NOW - 1000, 2)),
        (Delivery(False, NOW - 1000, 2), True, False, Say.NOTHING, Delivery(False, NOW - 1000, 2)),
        # The period is over and the rule still fires: announced now (the message says 2 held).
        (Delivery(False, NOW - T, 2), True, False, Say.FIRING, Delivery(True, NOW, 0)),
        (LONG_AGO_CLEARED, True, True, Say.FIRING, Delivery(True, NOW, 0)),
    ],
)
def test_decide(before: Delivery, firing: bool, tripped: bool, say: Say, after: Delivery) -> None:
    assert decide(before, firing, tripped, NOW, T) == (say, after)


def test_no_throttle_tells_every_transition() -> None:
    state = NEVER
    said = []
    for firing in (True, False, True, False):
        say, state = decide(state, firing, firing, NOW, 0)
        said.append(say)
    assert said == [Say.FIRING, Say.RESOLVED, Say.FIRING, Say.RESOLVED]


def test_flapping_costs_at_most_two_messages_per_period() -> None:
    state, said, now = NEVER, [], NOW
    for step in range(60):  # flips every 20 s for 20 minutes with a 10-minute throttle
        firing = step % 2 == 0
        say, state = decide(state, firing, firing, now, T)
        if say is not Say.NOTHING:
            said.append((say, now - NOW))
        now += 20_000
    assert said == [
        (Say.FIRING, 0),
        (Say.RESOLVED, 20_000),
        (Say.FIRING, 600_000),
        (Say.RESOLVED, 620_000),
    ]
