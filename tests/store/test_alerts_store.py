"""What each alert channel was told (alert_deliveries) and the failure-streak read, on both
dialects."""

from __future__ import annotations

from mainspring.store.base import Connector, Tx
from mainspring.store.repos import insights as insights_repo
from mainspring.store.repos import operations as ops_repo


async def test_deliveries_round_trip(connector: Connector) -> None:
    def save(tx: Tx) -> None:
        ops_repo.save_alert_delivery(tx, "queue_lag", "slack", True, 1_000, 0)
        ops_repo.save_alert_delivery(tx, "queue_lag", "email", False, None, 0)

    await connector.write(save)
    await connector.write(
        lambda tx: ops_repo.save_alert_delivery(tx, "queue_lag", "slack", False, 1_000, 2)
    )
    rows = await connector.read(ops_repo.alert_deliveries)
    found = {
        (r["rule"], r["channel"]): (r["announced"], r["fired_at"], r["suppressed"]) for r in rows
    }
    assert found == {("queue_lag", "slack"): (0, 1_000, 2), ("queue_lag", "email"): (0, None, 0)}


async def test_failure_streak_of_a_function_without_runs(connector: Connector) -> None:
    assert await connector.read(lambda tx: insights_repo.failure_streak(tx, "app-f", 3)) == 0
