"""Alert rules: evaluated every few seconds; each configured channel (webhook, Slack, e-mail) is
told when one trips and when it clears, through its own throttle (`alert_throttle`).

Rules (ids as shown in `/v1/health`):
- `kill_switch`: the kill switch is active.
- `success_rate:<slug>`: fewer than `min_success_rate` of the function's finished runs in the
  window completed (only with at least `min_runs` finished runs).
- `no_success:<slug>`: no successful run within the function's expected period (functions listed
  under `[alerts.expected]` only; a function that never succeeded is measured from the moment
  this process started watching).
- `dead_letters`: at least `dead_letters` failed runs in the window that nobody has rerun.
- `p95_duration:<slug>`: the p95 duration of the function's finished runs in the window is above
  its `[alerts.max_p95]` threshold (`"*"`: every function without one), with at least `min_runs`.
- `queue_lag`: the oldest ready queue item has waited longer than `max_queue_lag`.
- `consecutive_failures:<slug>`: the function's last `consecutive_failures` finished runs failed.

`evaluate` is pure (a snapshot in, the firing rules out). The state of each rule, and what each
channel was told about it, is stored; messages are decided in the same write that records them,
so a message goes out once even across restarts (with several processes, rarely twice).
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from typing import Any

from mainspring import codec, errors
from mainspring.clock import Clock
from mainspring.domain.durations import rfc3339
from mainspring.domain.ids import ulid_floor
from mainspring.operations import alert_channels, alert_format
from mainspring.operations.alert_format import TEST_RULE, AlertMessage
from mainspring.operations.alert_throttle import Delivery, Say, decide
from mainspring.operations.insights import percentile, queue_stats, success_rate
from mainspring.operations.periodic import Periodic
from mainspring.settings import ALL_FUNCTIONS
from mainspring.settings import Alerts as AlertConfig
from mainspring.store.base import Connector, Row, Tx
from mainspring.store.repos import insights as insights_repo
from mainspring.store.repos import operations as ops_repo

log = logging.getLogger("mainspring.alerts")
STOP_GRACE_S = 5.0
P95_SAMPLES = 10_000  # the newest finished runs in the window a p95 is taken over


@dataclass(frozen=True, slots=True)
class Snapshot:
    now: int
    kill_switch: dict[str, Any] | None
    counts: dict[str, dict[str, int]]
    last_success: dict[str, int | None] = field(default_factory=dict)
    dead_letters: int = 0
    watching_since: int = 0  # when this process began watching (a never-run function's start)
    p95_ms: dict[str, tuple[int, int]] = field(default_factory=dict)  # slug: (p95, samples)
    queue_lag_ms: int = 0
    queue_ready: int = 0
    failure_streaks: dict[str, int] = field(default_factory=dict)


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
    firing.update(_slow_functions(snapshot, config))
    if config.max_queue_lag_ms and snapshot.queue_lag_ms > config.max_queue_lag_ms:
        firing["queue_lag"] = {
            "lag_ms": snapshot.queue_lag_ms,
            "threshold_ms": config.max_queue_lag_ms,
            "ready": snapshot.queue_ready,
        }
    limit = config.consecutive_failures
    for slug, streak in snapshot.failure_streaks.items():
        if limit and streak >= limit:
            firing[f"consecutive_failures:{slug}"] = {"function_id": slug, "failures": streak}
    return firing


def p95_threshold(config: AlertConfig, slug: str) -> int | None:
    return config.max_p95_ms.get(slug, config.max_p95_ms.get(ALL_FUNCTIONS))


def _slow_functions(snapshot: Snapshot, config: AlertConfig) -> dict[str, dict[str, Any]]:
    firing: dict[str, dict[str, Any]] = {}
    for slug, (p95, samples) in snapshot.p95_ms.items():
        threshold = p95_threshold(config, slug)
        if threshold is not None and samples >= config.min_runs and p95 > threshold:
            firing[f"p95_duration:{slug}"] = {
                "function_id": slug,
                "p95_ms": p95,
                "samples": samples,
                "threshold_ms": threshold,
            }
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
    def __init__(
        self,
        connector: Connector,
        config: AlertConfig,
        clock: Clock,
        environment: str | None = None,
    ) -> None:
        self._connector = connector
        self._environment = environment  # named in each message (None: the default one)
        self._config = config
        self._clock = clock
        self._channels = alert_channels.configured(config)
        self._locks = {channel.name: asyncio.Lock() for channel in self._channels}
        self._sending: set[asyncio.Task[None]] = set()
        self.rounds = Periodic("alert rules", self.check, self._config.interval_ms / 1000)
        self._watching_since = clock()

    @property
    def config(self) -> AlertConfig:
        return self._config

    @property
    def channels(self) -> list[alert_channels.Channel]:
        return list(self._channels)

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
            counts = insights_repo.status_counts_by_function(tx, lower)
            queue = queue_stats(tx, now)
            return Snapshot(
                now=now,
                kill_switch=None
                if row is None
                else {"reason": row["reason"], "requested_by": row["requested_by"]},
                counts=counts,
                last_success={slug: insights_repo.last_success(tx, slug) for slug in expected},
                dead_letters=insights_repo.dead_letter_count(tx, lower),
                watching_since=self._watching_since,
                p95_ms=self._p95s(tx, counts, lower),
                queue_lag_ms=queue.oldest_ready_lag_ms,
                queue_ready=queue.ready,
                failure_streaks=self._streaks(tx, counts),
            )

        return await self._connector.read(unit)

    def _p95s(
        self, tx: Tx, counts: dict[str, dict[str, int]], lower: str
    ) -> dict[str, tuple[int, int]]:
        found: dict[str, tuple[int, int]] = {}
        for slug in counts:
            if p95_threshold(self._config, slug) is None:
                continue
            durations = sorted(insights_repo.function_durations(tx, slug, lower, P95_SAMPLES))
            p95 = percentile(durations, 95)
            if p95 is not None:
                found[slug] = (p95, len(durations))
        return found

    def _streaks(self, tx: Tx, counts: dict[str, dict[str, int]]) -> dict[str, int]:
        """Failure streaks of the functions with runs in the window, and of those whose streak
        rule fires (a function nobody runs any more stays failing, not quietly resolved)."""
        limit = self._config.consecutive_failures
        if not limit:
            return {}
        slugs = set(counts)
        for row in ops_repo.alert_states(tx):
            kind, _, slug = row["rule"].partition(":")
            if kind == "consecutive_failures" and row["firing"]:
                slugs.add(slug)
        return {slug: insights_repo.failure_streak(tx, slug, limit) for slug in sorted(slugs)}

    async def check(self) -> list[dict[str, Any]]:
        """Evaluate every rule once, record transitions and what each channel is told, then
        deliver; returns the messages sent (each with its `channel`)."""
        snapshot = await self.snapshot()
        firing = evaluate(snapshot, self._config)
        now = snapshot.now

        def unit(tx: Tx) -> list[tuple[alert_channels.Channel, AlertMessage]]:
            stored = {row["rule"]: bool(row["firing"]) for row in ops_repo.alert_states(tx)}
            tripped, cleared = transitions(stored, firing)
            for rule in tripped:
                ops_repo.save_alert_state(tx, rule, True, now, firing[rule])
                log.warning("alert %s: firing", rule)
            for rule in cleared:
                ops_repo.save_alert_state(tx, rule, False, now, None)
                log.warning("alert %s: resolved", rule)
            return self._outbox(tx, sorted(set(stored) | set(firing)), firing, set(tripped), now)

        outbox = await self._connector.write(unit)
        self._deliver(outbox)
        return [{"channel": ch.name, **alert_format.payload(msg)} for ch, msg in outbox]

    def _outbox(
        self,
        tx: Tx,
        rules: list[str],
        firing: dict[str, dict[str, Any]],
        tripped: set[str],
        now: int,
    ) -> list[tuple[alert_channels.Channel, AlertMessage]]:
        """Each channel's messages now, its throttle applied; records what it will be told."""
        told = {
            (row["rule"], row["channel"]): Delivery(
                bool(row["announced"]), row["fired_at"], int(row["suppressed"])
            )
            for row in ops_repo.alert_deliveries(tx)
        }
        outbox: list[tuple[alert_channels.Channel, AlertMessage]] = []
        for channel in self._channels:
            for rule in rules:
                before = told.get((rule, channel.name), Delivery())
                fires = rule in firing
                say, after = decide(before, fires, rule in tripped, now, channel.throttle_ms)
                if after != before:
                    ops_repo.save_alert_delivery(
                        tx, rule, channel.name, after.announced, after.fired_at, after.suppressed
                    )
                if say is Say.FIRING:
                    message = AlertMessage(
                        rule, "firing", now, firing[rule], before.suppressed, self._environment
                    )
                    outbox.append((channel, message))
                elif say is Say.RESOLVED:
                    resolved = AlertMessage(rule, "resolved", now, environment=self._environment)
                    outbox.append((channel, resolved))
        return outbox

    def _deliver(self, outbox: list[tuple[alert_channels.Channel, AlertMessage]]) -> None:
        """Send in the background, so a slow or failing channel (retries, a dead mail server)
        neither delays the next evaluation nor the other channels; each channel's messages
        keep their order (its lock is first come, first served)."""
        for channel in self._channels:
            messages = [message for target, message in outbox if target is channel]
            if messages:
                task = asyncio.create_task(self._send_in_order(channel, messages))
                self._sending.add(task)
                task.add_done_callback(self._sending.discard)

    async def _send_in_order(
        self, channel: alert_channels.Channel, messages: list[AlertMessage]
    ) -> None:
        async with self._locks[channel.name]:
            for message in messages:
                try:
                    await channel.send(message)
                except Exception:  # a bug in one channel must not lose the others' messages
                    log.exception("alert %s delivery of %s crashed", channel.name, message.rule)

    async def overview(self) -> dict[str, Any]:
        """`GET /v1/alerts`: the channels (no secrets), the rule thresholds, the rule states."""
        config = self._config
        return {
            "channels": [
                {"channel": c.name, "throttle_s": c.throttle_ms / 1000} for c in self._channels
            ],
            "rules": {
                "window_s": config.window_ms / 1000,
                "min_success_rate": config.min_success_rate,
                "min_runs": config.min_runs,
                "dead_letters": config.dead_letters,
                "expected_s": {k: v / 1000 for k, v in config.expected_ms.items()},
                "max_p95_s": {k: v / 1000 for k, v in config.max_p95_ms.items()},
                "max_queue_lag_s": config.max_queue_lag_ms / 1000 or None,
                "consecutive_failures": config.consecutive_failures or None,
            },
            "states": await self.states(),
        }

    async def send_test(self, channel: str | None = None) -> list[dict[str, Any]]:
        """Send a test message to every channel (or the one named), past the throttles; one
        attempt each, so the answer says at once what is wrong (`POST /v1/alerts/test`)."""
        names = [c.name for c in self._channels]
        if not names:
            raise errors.InvalidInput(
                "no alert channel is configured (set webhook_url, slack_webhook_url or "
                "smtp_host in [alerts])",
                field="channel",
            )
        if channel is not None and channel not in names:
            message = f"channel must be one of the configured channels: {', '.join(names)}"
            raise errors.InvalidInput(message, field="channel")
        targets = [c for c in self._channels if channel in (None, c.name)]
        test = AlertMessage(TEST_RULE, "test", self._clock(), environment=self._environment)
        results = await asyncio.gather(*(c.send(test, attempts=1) for c in targets))
        return [
            {"channel": c.name, "ok": error is None, "error": error}
            for c, error in zip(targets, results, strict=True)
        ]

    def start(self) -> None:
        self.rounds.start()

    async def stop(self) -> None:
        """Stop evaluating; messages already decided get a short while to go out."""
        await self.rounds.stop()
        if self._sending:
            await asyncio.wait(set(self._sending), timeout=STOP_GRACE_S)
        for task in self._sending:
            task.cancel()
