"""The store's guarantees, against a real database: every test runs on SQLite and PostgreSQL
(see conftest.py), except the few marked `sqlite_only` / `postgres_only`."""

import asyncio
from collections.abc import Callable

import pytest

from mainspring import errors, ingest
from mainspring.domain.functions import FunctionDef, Trigger
from mainspring.domain.queue import Kind
from mainspring.store import migrations, open_connector
from mainspring.store.base import Connector, Tx
from mainspring.store.repos import events as events_repo
from mainspring.store.repos import operations as operations_repo
from mainspring.store.repos import pauses as pauses_repo
from mainspring.store.repos import queue as queue_repo
from mainspring.store.repos import runs as runs_repo
from mainspring.store.sqlite import SqliteConnector

NOW = 1_800_000_000_000
FUNCTION = FunctionDef(
    id="f1", app_id="a1", slug="app-fn", name="fn", url="http://x", triggers=(Trigger("e"),)
)


class OneFunction:
    """The function table as event routing sees it: one function, triggered by `e`."""

    def get(self, slug: str) -> FunctionDef | None:
        return FUNCTION if slug == FUNCTION.slug else None

    def match(self, event: dict[str, object]) -> list[FunctionDef]:
        return [FUNCTION] if event["name"] == "e" else []


def ingest_events(tx: Tx, events: list[events_repo.NewEvent], now: int) -> ingest.Effects:
    return ingest.process_events(tx, events, now, OneFunction(), ingest.Effects())


def new_event(
    internal_id: str, sender_id: str | None = None, *, seeded: bool = False
) -> events_repo.NewEvent:
    payload = {"name": "e", "data": {}, "user": {}, "id": sender_id or internal_id, "ts": NOW}
    return events_repo.NewEvent(internal_id, payload, sender_id, [FUNCTION], seeded=seeded)


async def test_failing_unit_in_a_batch_leaves_the_others_committed(connector: Connector) -> None:
    def good(tx: Tx) -> str:
        ingest_events(tx, [new_event("01GOOD")], NOW)
        return "ok"

    def bad(tx: Tx) -> None:
        ingest_events(tx, [new_event("01BAD")], NOW)
        raise RuntimeError("boom")

    results = await asyncio.gather(
        connector.write(good), connector.write(bad), connector.write(good), return_exceptions=True
    )
    assert results[0] == "ok"
    assert isinstance(results[1], RuntimeError)
    assert await connector.read(lambda tx: events_repo.get_event(tx, "01BAD")) is None
    assert await connector.read(lambda tx: events_repo.get_event(tx, "01GOOD")) is not None


async def test_sender_id_dedupes_events_and_runs(connector: Connector) -> None:
    first = await connector.write(lambda tx: ingest_events(tx, [new_event("01A", "order-1")], NOW))
    second = await connector.write(
        lambda tx: ingest_events(tx, [new_event("01B", "order-1")], NOW + 1000)
    )
    assert first.ids == second.ids == ["01A"]
    assert len(first.started) == 1 and second.started == []
    later = NOW + events_repo.DEDUPE_WINDOW_MS + 1
    third = await connector.write(
        lambda tx: ingest_events(tx, [new_event("01C", "order-1")], later)
    )
    assert third.ids == ["01C"] and len(third.started) == 1


async def test_resend_with_same_internal_id_starts_nothing(connector: Connector) -> None:
    # An SDK resending a request derives the same internal ids from its id seed.
    await connector.write(lambda tx: ingest_events(tx, [new_event("01S", seeded=True)], NOW))
    again = await connector.write(
        lambda tx: ingest_events(tx, [new_event("01S", seeded=True)], NOW)
    )
    assert again.started == []


async def test_lease_hides_items_until_expiry(connector: Connector) -> None:
    stored = await connector.write(lambda tx: ingest_events(tx, [new_event("01L")], NOW))
    run_id = stored.started[0]

    def lease(at: int) -> list[str]:
        def unit(tx: Tx) -> list[str]:
            items = queue_repo.lease_due(tx, owner="w", now=at, lease_until=at + 30_000, limit=10)
            return [item.run_id for item in items]

        return unit  # type: ignore[return-value]

    assert await connector.write(lease(NOW)) == [run_id]
    assert await connector.write(lease(NOW + 10_000)) == []
    assert await connector.write(lease(NOW + 30_000)) == [run_id]  # the worker died


async def test_future_items_are_not_due_and_next_due_is_indexed(connector: Connector) -> None:
    def unit(tx: Tx) -> None:
        queue_repo.enqueue(tx, kind=Kind.SLEEP, run_id="r", available_at=NOW + 5_000, now=NOW)

    await connector.write(unit)
    leased = await connector.write(
        lambda tx: queue_repo.lease_due(tx, owner="w", now=NOW, lease_until=NOW + 1, limit=5)
    )
    assert leased == []
    assert await connector.read(queue_repo.next_due) == NOW + 5_000


async def test_discovery_is_deduplicated(connector: Connector) -> None:
    def unit(tx: Tx) -> list[bool]:
        return [queue_repo.enqueue_discovery(tx, "r", NOW, NOW) for _ in range(3)]

    assert await connector.write(unit) == [True, False, False]


async def test_step_output_is_never_overwritten(connector: Connector) -> None:
    stored = await connector.write(lambda tx: ingest_events(tx, [new_event("01W")], NOW))
    run_id = stored.started[0]

    def save(memo: object) -> Callable[[Tx], Callable[[], bool]]:
        def unit(tx: Tx) -> Callable[[], bool]:
            return runs_repo.save_step(
                tx,
                run_id,
                step_id="s",
                name="s",
                op="StepRun",
                memo=memo,
                attempts=1,
                now=NOW,
                history_kind="step.completed",
                history_attempt=0,
            )

        return unit

    # Whether it was written is asked after commit: the answer travelled with the batch.
    assert (await connector.write(save({"data": 1})))() is True
    assert (await connector.write(save({"data": 2})))() is False
    steps = await connector.read(lambda tx: runs_repo.list_steps(tx, run_id))
    assert [step["memo"] for step in steps] == ['{"data":1}']
    history = await connector.read(lambda tx: runs_repo.list_history(tx, run_id))
    recorded = [(row["kind"], row["step_id"], row["attempt"]) for row in history]
    assert recorded == [("run.scheduled", None, None), ("step.completed", "s", 0)]


async def test_an_ended_run_records_no_step(connector: Connector) -> None:
    from mainspring.domain.runs import RunStatus

    stored = await connector.write(lambda tx: ingest_events(tx, [new_event("01X")], NOW))
    run_id = stored.started[0]
    await connector.write(lambda tx: runs_repo.finish(tx, run_id, RunStatus.CANCELLED, None, NOW))

    def unit(tx: Tx) -> bool:
        written = runs_repo.save_step(
            tx,
            run_id,
            step_id="late",
            name="late",
            op="StepRun",
            memo=1,
            attempts=1,
            now=NOW,
            history_kind="step.completed",
        )
        return written()  # asked inside the unit: waits for the answer there

    assert await connector.write(unit) is False
    assert await connector.read(lambda tx: runs_repo.list_steps(tx, run_id)) == []


async def test_finish_happens_once(connector: Connector) -> None:
    stored = await connector.write(lambda tx: ingest_events(tx, [new_event("01F")], NOW))
    run_id = stored.started[0]
    from mainspring.domain.runs import RunStatus

    first = await connector.write(
        lambda tx: runs_repo.finish(tx, run_id, RunStatus.COMPLETED, 1, NOW)()
    )
    second = await connector.write(
        lambda tx: runs_repo.finish(tx, run_id, RunStatus.FAILED, 2, NOW)
    )
    assert (first, second()) == (True, False)
    assert await connector.read(queue_repo.count) == 0
    history = await connector.read(lambda tx: runs_repo.list_history(tx, run_id))
    assert [(row["kind"], row["data"]) for row in history] == [
        ("run.scheduled", None),
        ("run.completed", "1"),
    ]


async def test_a_run_is_created_once_per_function_and_event_id(connector: Connector) -> None:
    first = await connector.write(lambda tx: ingest_events(tx, [new_event("01K")], NOW))
    (run_id,) = first.started
    leased = await connector.write(
        lambda tx: queue_repo.lease_due(tx, owner="w", now=NOW, lease_until=NOW + 1, limit=5)
    )
    assert [(item.run_id, item.is_discovery) for item in leased] == [(run_id, True)]
    again = await connector.write(
        lambda tx: runs_repo.start_run(tx, FUNCTION, "01K2", "01K", NOW + 1)
    )
    assert again is None
    unconfirmed = await connector.write(
        lambda tx: runs_repo.start_run(tx, FUNCTION, "01K4", "01K", NOW + 2, confirm=False)
    )
    assert unconfirmed is not None  # the claim lost, unseen: no run, no history, no queue item
    assert await connector.read(lambda tx: runs_repo.get_run(tx, unconfirmed)) is None
    assert await connector.read(lambda tx: runs_repo.list_history(tx, unconfirmed)) == []
    assert await connector.read(queue_repo.count) == 1
    later = NOW + runs_repo.RUN_KEY_WINDOW_MS
    assert await connector.write(lambda tx: runs_repo.start_run(tx, FUNCTION, "01K3", "01K", later))


async def test_a_run_is_marked_started_once(connector: Connector) -> None:
    stored = await connector.write(lambda tx: ingest_events(tx, [new_event("01M")], NOW))
    run_id = stored.started[0]
    first = await connector.write(lambda tx: runs_repo.mark_started(tx, run_id, NOW, 1))
    second = await connector.write(lambda tx: runs_repo.mark_started(tx, run_id, NOW + 5, 2))
    assert (first, second) == (True, False)
    history = await connector.read(lambda tx: runs_repo.list_history(tx, run_id))
    assert [(row["kind"], row["at"]) for row in history] == [
        ("run.scheduled", NOW),
        ("run.started", NOW),
    ]
    row = await connector.read(lambda tx: runs_repo.get_run(tx, run_id))
    assert row is not None and (row["started_at"], row["request_version"]) == (NOW, 1)


@pytest.mark.sqlite_only  # the exclusive lock file; PostgreSQL is shared by design
async def test_second_process_is_refused(db_url: str) -> None:
    first = SqliteConnector(db_url)
    try:
        with pytest.raises(errors.StoreLocked):
            SqliteConnector(db_url)
    finally:
        await first.close()
    await SqliteConnector(db_url).close()  # released on close


async def test_reopen_keeps_data_and_migrations_are_idempotent(db_url: str) -> None:
    conn = open_connector(db_url)
    await conn.write(lambda tx: ingest_events(tx, [new_event("01R")], NOW))
    await conn.close()
    conn = open_connector(db_url)
    assert await conn.read(lambda tx: events_repo.get_event(tx, "01R")) is not None
    await conn.close()
    assert migrations.pending(db_url) == []


LEASE_ITEMS = 200


@pytest.mark.postgres_only  # several processes share one PostgreSQL database
async def test_two_connectors_never_lease_the_same_item(db_url: str, connector: Connector) -> None:
    def fill(tx: Tx) -> None:
        for i in range(LEASE_ITEMS):
            queue_repo.enqueue(tx, kind=Kind.CALL, run_id=f"run{i:03d}", available_at=NOW, now=NOW)

    await connector.write(fill)
    other = open_connector(db_url)

    async def drain(conn: Connector, owner: str) -> list[str]:
        leased: list[str] = []
        while True:
            items = await conn.write(
                lambda tx: queue_repo.lease_due(
                    tx, owner=owner, now=NOW, lease_until=NOW + 60_000, limit=2
                )
            )
            if not items:
                return leased
            leased += [item.id for item in items]

    try:
        # Four lease loops per connector: inside one connector they share group-committed
        # transactions, across the two they race on row locks (FOR UPDATE SKIP LOCKED).
        loops = [
            drain(conn, f"{name}{k}")
            for k in range(4)
            for name, conn in (("a", connector), ("b", other))
        ]
        results = await asyncio.gather(*loops)
        leftover = await other.write(
            lambda tx: queue_repo.lease_due(
                tx, owner="late", now=NOW, lease_until=NOW + 60_000, limit=LEASE_ITEMS
            )
        )
    finally:
        await other.close()

    by_a = [item for i, got in enumerate(results) if i % 2 == 0 for item in got]
    by_b = [item for i, got in enumerate(results) if i % 2 == 1 for item in got]
    every = by_a + by_b
    assert len(every) == len(set(every)), "an item was leased twice"
    assert len(every) == LEASE_ITEMS and leftover == [], "an item was never leased"
    assert by_a and by_b, f"no race happened: a leased {len(by_a)}, b leased {len(by_b)}"
    assert await connector.read(queue_repo.count) == LEASE_ITEMS


async def test_a_request_of_many_events_finds_what_each_satisfies(connector: Connector) -> None:
    """The one-round-trip look-up of a request's pause candidates finds what one look-up per
    event finds: indexed equality pauses, unindexed expressions, other event names. Indexed
    pauses are taken by the look-up that finds them."""
    later = NOW + 60_000

    def create(tx: Tx) -> None:
        for pause_id, event_name, expression, trigger in (
            ("p-key", "approved", "event.data.id == async.data.id", {"data": {"id": "A"}}),
            ("p-expr", "approved", "async.data.amount > 10", {"data": {}}),
            ("p-any", "shipped", None, {"data": {}}),
        ):
            pauses_repo.create(
                tx,
                pause_id=pause_id,
                run_id=f"run-{pause_id}",
                kind="wait",
                event_name=event_name,
                expression=expression,
                trigger_event=trigger,
                expires_at=later,
                now=NOW,
            )

    await connector.write(create)
    events = [
        {"name": "approved", "data": {"id": "A", "amount": 5}},
        {"name": "approved", "data": {"id": "B", "amount": 50}},
        {"name": "shipped", "data": {}},
        {"name": "other", "data": {}},
    ]

    def find_together(tx: Tx) -> list[list[tuple[str, bool]]]:
        names = {str(event["name"]) for event in events}
        prefetched = pauses_repo.prefetch_candidates(tx, names, NOW)
        return [
            [
                (p.id, p.taken)
                for p in pauses_repo.take_satisfied(tx, e, NOW, prefetched[str(e["name"])])
            ]
            for e in events
        ]

    def find_alone(tx: Tx) -> list[list[tuple[str, bool]]]:
        return [[(p.id, p.taken) for p in pauses_repo.take_satisfied(tx, e, NOW)] for e in events]

    together = await connector.write(find_together)
    again = await connector.write(find_alone)
    assert again == [[], [("p-expr", False)], [("p-any", False)], []], "p-key was taken"
    await connector.write(create)
    alone = await connector.write(find_alone)
    expected = [[("p-key", True)], [("p-expr", False)], [("p-any", False)], []]
    assert together == alone == expected


async def test_run_state_loads_events_and_steps_verbatim_and_in_order(connector: Connector) -> None:
    event = new_event("01L")
    event.payload["data"] = {"big": 9007199254740993, "f": 1.5, "text": "é\u2028", "list": [1]}
    event.payload["v"] = "2026-01-01.1"
    stored = await connector.write(lambda tx: ingest_events(tx, [event], NOW))
    run_id = stored.started[0]
    memos = {"b-second": {"data": {"x": [1, {"y": None}]}}, "a-first": {"data": 2**53 + 1}}

    def save(tx: Tx) -> None:
        for position, step_id in enumerate(("b-second", "a-first")):
            runs_repo.save_step(
                tx,
                run_id,
                step_id=step_id,
                name=step_id,
                op="StepRun",
                memo=memos[step_id],
                attempts=1,
                now=NOW + position,
                history_kind="step.completed",
            )

    await connector.write(save)
    state = await connector.read(lambda tx: runs_repo.load_state(tx, run_id))
    assert state is not None
    assert state.events == [event.payload]
    assert state.stack == ["b-second", "a-first"]  # the order they were recorded in
    assert state.steps == memos
    plain = await connector.write(lambda tx: ingest_events(tx, [new_event("01P")], NOW))
    bare = await connector.read(lambda tx: runs_repo.load_state(tx, plain.started[0]))
    assert bare is not None and "v" not in bare.events[0] and bare.steps == {}
    # Several runs in one statement (the lease's read): the same states, absent ids left out.
    many = await connector.write(
        lambda tx: runs_repo.load_states(tx, [run_id, plain.started[0], "no-such-run"])
    )
    assert set(many) == {run_id, plain.started[0]}
    assert many[run_id] == state and many[plain.started[0]] == bare


async def test_a_run_ends_once_and_emits_its_lifecycle_event_once(connector: Connector) -> None:
    """The end is assumed (checked before commit on PostgreSQL): a second end changes nothing."""
    from mainspring.domain.runs import RunStatus

    stored = await connector.write(lambda tx: ingest_events(tx, [new_event("01E")], NOW))
    run_id = stored.started[0]
    state = await connector.read(lambda tx: runs_repo.load_state(tx, run_id))
    assert state is not None

    def end(status: RunStatus, output: object) -> Callable[[Tx], bool]:
        def unit(tx: Tx) -> bool:
            return ingest.end_run(
                tx, state, status, output, None, NOW, OneFunction(), ingest.Effects()
            )

        return unit

    assert await connector.write(end(RunStatus.COMPLETED, 1)) is True
    # Twice at once: both go in one batch when they can, and neither may end it again.
    again = await asyncio.gather(
        connector.write(end(RunStatus.FAILED, 2)), connector.write(end(RunStatus.CANCELLED, 3))
    )
    assert again == [False, False]
    run = await connector.read(lambda tx: runs_repo.get_run(tx, run_id))
    assert run is not None and (run["status"], run["output"]) == ("Completed", "1")
    emitted = await connector.read(lambda tx: events_repo.list_events(tx, None, 50))
    assert sorted(event.name for event in emitted) == ["e", "inngest/function.finished"]


async def test_a_wrong_assumption_reruns_the_unit_with_the_real_answer(
    connector: Connector,
) -> None:
    from mainspring.domain.runs import RunStatus

    stored = await connector.write(lambda tx: ingest_events(tx, [new_event("01A")], NOW))
    run_id = stored.started[0]
    await connector.write(lambda tx: runs_repo.finish(tx, run_id, RunStatus.COMPLETED, 1, NOW))
    calls: list[str] = []

    def late_finish(tx: Tx) -> bool:
        calls.append("late")
        if not tx.assume(runs_repo.finish(tx, run_id, RunStatus.FAILED, 2, NOW)):
            return False
        runs_repo.add_history(tx, run_id, NOW, "after.assumed.end")
        return True

    def neighbour(tx: Tx) -> str:
        calls.append("neighbour")
        ingest_events(tx, [new_event("01N")], NOW)
        return "ok"

    results = await asyncio.gather(connector.write(late_finish), connector.write(neighbour))
    assert results == [False, "ok"]
    history = await connector.read(lambda tx: runs_repo.list_history(tx, run_id))
    assert "after.assumed.end" not in [row["kind"] for row in history]
    events = await connector.read(lambda tx: events_repo.list_events(tx, None, 50))
    assert "01N" in [event.internal_id for event in events]  # the neighbour's work committed


async def test_pause_candidates_kept_in_a_transaction_include_pauses_created_in_it(
    connector: Connector,
) -> None:
    def unit(tx: Tx) -> tuple[int, int]:
        before = pauses_repo.prefetch_candidates(tx, {"x/wanted"}, NOW)["x/wanted"]
        pauses_repo.create(
            tx,
            pause_id="p1",
            run_id="r1",
            kind="wait",
            event_name="x/wanted",
            expression="event.data.n == async.data.n",
            trigger_event={"data": {"n": 1}},
            expires_at=NOW + 60_000,
            now=NOW,
            step_id="s",
        )
        after = pauses_repo.prefetch_candidates(tx, {"x/wanted"}, NOW)["x/wanted"]
        return len(before), len(after)

    assert await connector.write(unit) == (0, 1)


@pytest.mark.parametrize("asked", [None, "process", "power"])
async def test_durability_is_applied_to_every_writer(db_url: str, asked: str | None) -> None:
    """`--durability` reaches the database session: SQLite's synchronous pragma, PostgreSQL's
    synchronous_commit; None keeps each store's default (SQLite process, PostgreSQL power)."""
    expected = asked or ("power" if db_url.startswith("postgresql") else "process")
    conn = open_connector(db_url, asked)
    try:
        # units at once, so that every writer of a pool (PostgreSQL) answers some
        answers = await asyncio.gather(
            *(conn.write(operations_repo.durability_in_effect) for _ in range(16))
        )
        assert set(answers) == {expected}
    finally:
        await conn.close()
