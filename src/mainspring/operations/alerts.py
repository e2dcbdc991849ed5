"""Alert rules: evaluated every few seconds; a webhook gets JSON when one trips and when it clears.

Rules (ids as shown in `/v1/health`):
- `kill_switch`: the kill switch is active.
- `success_rate:<slug>`: fewer than `min_success_rate` of the function's finished runs in the
  window completed (only with at least `min_runs` finished runs).
- `no_success:<slug>`: no successful run within the function's expected period (functions listed
  under `[alerts.expected]` only; a function that never succeeded is measured from the moment
  this process started watching).
- `dead_letters`: at least `dead_letters` failed runs in the window that nobody has rerun.

`evaluate` is pure (a snapshot in, the firing rules out). The state of each rule is stored, and a
transition is claimed in the same write that records it, so a trip or a clear is posted once per
change even across restarts (with several processes, rarely twice).
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from mainspring import codec
from mainspring.clock import Clock
from mainspring.domain.durations import rfc3339
from mainspring.domain.ids import ulid_floor
from mainspring.operations.insights import success_rate
from mainspring.operations.periodic import Periodic
from mainspring.settings import Alerts as AlertConfig
from mainspring.store.base import Connector, Row, Tx
from mainspring.store.repos import insights as insights_repo
from mainspring.store.repos import operations as ops_repo

log = logging.getLogger("mainspring.alerts")
WEBHOOK_TIMEOUT_S = 10.0
WEBHOOK_ATTEMPTS = 3


@dataclass(frozen=True, slots=True)
class Snapshot:
    now: int
    kill_switch: dict[str, Any] | None
    counts: dict[str, dict[str, int]]
    last_success: dict[str, int | None] = field(default_factory=dict)
    dead_letters: int = 0
    watching_since: int = 0  # when this process began watching (a never-run function's start)


def evaluate(snapshot: Snapshot, config: AlertConfig) -> dict[str, dict[str, Any]]:
    """The rules firing now, each with its detail."""
    firing: dict[str, dict[str, Any]] = {}
    if snapshot.kill_switch is not None:
        firing["kill_switch"] = dict(snapshot.kill_switch)
    for slug, counts in snapshot.counts.items():
        rate = success_rate(counts)
        finished = counts.get("Completed", 0) + counts.get("Failed", 0)
        if rate is not None and finished >= config.min_runs and rate < config.min_success_rate:
            firing[f"success_rate:{slug}"] = {
                "function_id": slug,
                "success_rate": round(rate, 4),
                "finished": finished,
                "threshold": config.min_success_rate,
            }
    for slug, period in config.expected_ms.items():
        last = snapshot.last_success.get(slug)
        if snapshot.now - (last if last is not None else snapshot.watching_since) > period:
            firing[f"no_success:{slug}"] = {
                "function_id": slug,
                "last_success_at": rfc3339(last),
                "expected_period_s": period // 1000,
            }
    if snapshot.dead_letters >= config.dead_letters:
        firing["dead_letters"] = {"count": snapshot.dead_letters, "threshold": config.dead_letters}
    return firing


def alert_view(row: Row) -> dict[str, Any]:
    return {
        "rule": row["rule"],
        "state": "firing" if row["firing"] else "ok",
        "since": rfc3339(row["since"]),
        "detail": codec.loads(row["detail"]),
    }


def transitions(
    stored: dict[str, bool], firing: dict[str, dict[str, Any]]
) -> tuple[list[str], list[str]]:
    """(rules that trip now, rules that clear now) given the stored states."""
    tripped = sorted(rule for rule in firing if not stored.get(rule, False))
    cleared = sorted(rule for rule, was in stored.items() if was and rule not in firing)
    return tripped, cleared


class Alerts:
    def __init__(self, connector: Connector, config: AlertConfig, clock: Clock) -> None:
        self._connector = connector
        self._config = config
        self._clock = clock
        self.rounds = Periodic("alert rules", self.check, self._config.interval_ms / 1000)
        self._watching_since = clock()

    @property
    def config(self) -> AlertConfig:
        return self._config

    async def states(self) -> list[dict[str, Any]]:
        """Every rule that ever fired, with `state` firing / ok, `since` and `detail`."""
        rows = await self._connector.read(ops_repo.alert_states)
        return [alert_view(row) for row in rows]

    async def snapshot(self) -> Snapshot:
        now = self._clock()
        lower = ulid_floor(now - self._config.window_ms)
        expected = list(self._config.expected_ms)

        def unit(tx: Tx) -> Snapshot:
            row = ops_repo.kill_switch(tx)
            return Snapshot(
                now=now,
                kill_switch=None
                if row is None
                else {"reason": row["reason"], "requested_by": row["requested_by"]},
                counts=insights_repo.status_counts_by_function(tx, lower),
                last_success={slug: insights_repo.last_success(tx, slug) for slug in expected},
                dead_letters=insights_repo.dead_letter_count(tx, lower),
                watching_since=self._watching_since,
            )

        return await self._connector.read(unit)

    async def check(self) -> list[dict[str, Any]]:
        """Evaluate every rule once, record transitions, post them; returns what was posted."""
        snapshot = await self.snapshot()
        firing = evaluate(snapshot, self._config)
        now = snapshot.now

        def unit(tx: Tx) -> list[dict[str, Any]]:
            stored = {row["rule"]: bool(row["firing"]) for row in ops_repo.alert_states(tx)}
            tripped, cleared = transitions(stored, firing)
            posts = []
            for rule in tripped:
                ops_repo.save_alert_state(tx, rule, True, now, firing[rule])
                posts.append(_payload(rule, "firing", now, firing[rule]))
            for rule in cleared:
                ops_repo.save_alert_state(tx, rule, False, now, None)
                posts.append(_payload(rule, "resolved", now, None))
            return posts

        posts = await self._connector.write(unit)
        for post in posts:
            log.warning("alert %s: %s", post["rule"], post["state"])
            await self._post(post)
        return posts

    async def _post(self, payload: dict[str, Any]) -> None:
        url = self._config.webhook_url
        if not url:
            return
        timeout = aiohttp.ClientTimeout(total=WEBHOOK_TIMEOUT_S)
        for attempt in range(WEBHOOK_ATTEMPTS):
            try:
                async with (
                    aiohttp.ClientSession(timeout=timeout) as session,
                    session.post(url, data=codec.dumpb(payload), headers=_HEADERS) as response,
                ):
                    if response.status < 400:
                        return
                    log.warning("alert webhook answered %d", response.status)
            except (aiohttp.ClientError, TimeoutError) as exc:
                log.warning("alert webhook failed: %s", exc)
            await asyncio.sleep(0.5 * 2**attempt)

    def start(self) -> None:
        self.rounds.start()

    async def stop(self) -> None:
        await self.rounds.stop()


_HEADERS = {"Content-Type": "application/json", "User-Agent": "mainspring-alerts"}


def _payload(rule: str, state: str, now: int, detail: Any) -> dict[str, Any]:
    return {
        "source": "mainspring",
        "rule": rule,
        "state": state,
        "at": rfc3339(now),
        "detail": detail,
    }
