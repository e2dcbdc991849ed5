"""Singleton: one active run per key; `skip` drops the newcomer, `cancel` replaces the holder."""

from __future__ import annotations

import enum


class Action(enum.StrEnum):
    START = "start"
    SKIP = "skip"
    CANCEL_AND_START = "cancel"


def decide(mode: str, holder_running: bool) -> Action:
    if not holder_running:
        return Action.START
    return Action.SKIP if mode == "skip" else Action.CANCEL_AND_START
