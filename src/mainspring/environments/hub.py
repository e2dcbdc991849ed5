"""The environments one process serves: each a complete engine (store, queue worker, cron,
operations) built by the composition root, started here and stopped here.

The list lives in the default environment's store (`environments` table), so every process on
one PostgreSQL database serves the same environments: a process that adds or archives one
NOTIFYs the others, and each re-reads the list every `REFRESH_S` in case a NOTIFY was lost.
A branch environment is added by the first sync that names it (when `--branch-envs` is on) and
archived after `--branch-env-idle` without a sync or an event; an archived one runs nothing
(its runs wait, durable, in its store) until a sync brings it back.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Generic, Protocol, TypeVar

from mainspring import errors
from mainspring.clock import Clock
from mainspring.environments import names
from mainspring.environments.stores import EnvStore, create_schema, store_for
from mainspring.store import open_connector
from mainspring.store.base import Connector, Row, Tx
from mainspring.store.repos import environments as env_repo
from mainspring.supervision import Component, start_supervised

log = logging.getLogger("mainspring.environments")
REFRESH_S = 15.0  # a lost NOTIFY costs at most this long


class Engine(Protocol):
    async def start(self) -> None: ...

    async def stop(self) -> None: ...


S = TypeVar("S")
# (name, kind, connector, NOTIFY namespace) → the environment's services and engine
Build = Callable[[str, str, Connector, str], tuple[S, Engine]]


@dataclass(frozen=True, slots=True)
class EnvConfig:
    configured: tuple[str, ...] = ()  # `--env`: always served
    branches: bool = False  # `--branch-envs`: a sync naming a new environment adds it
    idle_ms: int = 7 * 24 * 3600 * 1000  # `--branch-env-idle`: a branch this idle is archived
    # `--max-branch-envs`: each costs every process a full engine (5 PostgreSQL connections)
    max_branches: int = 20

    @property
    def enabled(self) -> bool:
        """Off (the default): `X-Inngest-Env` is ignored and everything is in one environment."""
        return bool(self.configured) or self.branches


@dataclass(slots=True)
class Live(Generic[S]):
    name: str
    kind: str
    services: S
    engine: Engine
    connector: Connector


class Environments(Generic[S]):
    def __init__(
        self,
        config: EnvConfig,
        base_url: str,
        durability: str | None,
        default: Live[S],
        build: Build[S],
        clock: Clock,
    ) -> None:
        self.config = config
        self._base_url = base_url
        self._durability = durability
        self._catalog = default.connector
        self._live: dict[str, Live[S]] = {names.DEFAULT: default}
        self._build = build
        self._clock = clock
        self._opening: dict[str, asyncio.Lock] = {}
        self.failed: dict[str, str] = {}  # environment → why it could not be opened (retried)
        self._touched: set[str] = set()
        self._task: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()
        # called once an environment is open (the global kill switch holds a new one too), and
        # after each round (holds one another process opened meanwhile)
        self.on_open: Callable[[str, S], Awaitable[None]] | None = None
        self.on_round: Callable[[], Awaitable[None]] | None = None
        self.component = Component("environments", deadline_s=120.0)

    def components(self) -> list[Component]:
        """The refresh loop, watched once started (environments on)."""
        return [] if self._task is None else [self.component]

    # ---- which environment a request means ------------------------------------------------

    def resolve(self, requested: str | None, field: str = "env") -> str:
        """The environment a request names; the default when none is named or when the
        server has environments off (then `INNGEST_ENV` on an app changes nothing)."""
        if requested is None or requested == "" or not self.config.enabled:
            return names.DEFAULT
        return names.check(requested, field)

    def get(self, name: str) -> S:
        live = self._live.get(name)
        if live is None:
            raise errors.UnknownEnvironment(
                f"environment {name!r} does not exist on this server (or is archived)",
                field="env",
            )
        return live.services

    def served(self) -> list[str]:
        """The environments served now, the default first."""
        return [names.DEFAULT, *sorted(name for name in self._live if name != names.DEFAULT)]

    def all_services(self) -> list[tuple[str, S]]:
        return [(name, self._live[name].services) for name in self.served() if name in self._live]

    async def listing(self) -> list[Row]:
        """Every environment with its kind and times, archived ones included."""
        rows = await self._catalog.read(env_repo.list_environments)
        default: Row = {
            "name": names.DEFAULT,
            "kind": "default",
            "created_at": None,
            "active_at": None,
            "archived_at": None,
        }
        return [default, *(row for row in rows if row["name"] != names.DEFAULT)]

    def kind_of(self, name: str) -> str:
        """default, configured or branch (one not served yet would be a branch)."""
        live = self._live.get(name)
        if live is not None:
            return live.kind
        return "configured" if name in self.config.configured else "branch"

    def touch(self, name: str) -> None:
        """A sync or an event: the environment is in use (written at the next round)."""
        if name != names.DEFAULT:
            self._touched.add(name)

    async def ensure_branch(self, name: str) -> None:
        """A sync names `name`: serve it, adding it as a branch environment when it is new
        (or archived) and branches are on."""
        if name in self._live:
            self.touch(name)
            return
        if not self.config.branches:
            self.get(name)  # raises UnknownEnvironment
        branches = sum(1 for live in self._live.values() if live.kind == "branch")
        if branches >= self.config.max_branches:
            raise errors.TooManyEnvironments(
                f"{branches} branch environments are served (--max-branch-envs); "
                f"{name!r} is not added until one is archived",
                field="env",
            )
        # opened before it is listed: one that cannot be opened leaves no row behind that
        # every process (and every restart) would try again
        await self._open(name, "branch")
        now = self._clock()
        await self._catalog.write(lambda tx: env_repo.add_environment(tx, name, "branch", now))
        log.info("branch environment %r added by a sync", name)

    # ---- the global kill switch's record (the api layer flips each environment's switch) ----

    async def global_kill_switch(self) -> Row | None:
        return await self._catalog.read(env_repo.global_kill_switch)

    async def set_global_kill_switch(self, reason: str | None, requested_by: str | None) -> None:
        now = self._clock()
        await self._catalog.write(
            lambda tx: env_repo.set_global_kill_switch(tx, reason, requested_by, now)
        )

    async def clear_global_kill_switch(self) -> None:
        await self._catalog.write(env_repo.clear_global_kill_switch)

    # ---- lifecycle --------------------------------------------------------------------------

    async def start(self) -> None:
        if not self.config.enabled:
            return
        now = self._clock()

        def configure(tx: Tx) -> None:
            for name in self.config.configured:
                if name != names.DEFAULT:
                    env_repo.add_environment(tx, name, "configured", now)

        await self._catalog.write(configure)
        await self.refresh()
        self._catalog.listen(env_repo.CHANNEL, self._wake.set)
        self._task = start_supervised(self.component, self._loop)

    async def stop(self) -> None:
        """All at once: one after another, N environments would take N shutdown timeouts."""
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None
        others = [name for name in self.served() if name != names.DEFAULT]
        outcomes = await asyncio.gather(*map(self._close, others), return_exceptions=True)
        for name, outcome in zip(others, outcomes, strict=True):
            if isinstance(outcome, BaseException):
                log.error("environment %r did not stop cleanly: %r", name, outcome)

    async def _wanted(self) -> dict[str, str]:
        rows = await self._catalog.read(env_repo.list_environments)
        wanted = {str(row["name"]): str(row["kind"]) for row in rows if row["archived_at"] is None}
        wanted.pop(names.DEFAULT, None)
        return wanted

    async def refresh(self) -> None:
        """Serve what the list says: open new environments, close archived ones. One that
        cannot be opened is logged, shown by /health and tried again next round; the others
        (and production) go on."""
        wanted = await self._wanted()
        for name in sorted(set(wanted) - set(self._live)):
            try:
                await self._open(name, wanted[name])
            except Exception as exc:
                log.error("environment %r could not be opened: %r", name, exc)
        gone = set(self._live) - set(wanted) - {names.DEFAULT}
        if gone:
            gone &= set(self._live) - set(await self._wanted())  # a sync may have added it since
        for name in sorted(gone):
            log.info("environment %r archived: its engine stops", name)
            await self._close(name)

    async def _loop(self) -> None:
        # a short idle time (tests, demos) is checked as often as it needs
        interval = min(REFRESH_S, max(0.5, self.config.idle_ms / 4000))
        while True:
            try:
                await asyncio.wait_for(self._wake.wait(), timeout=interval)
            except TimeoutError:
                pass
            self._wake.clear()
            await self._round()

    async def _round(self) -> None:
        now = self._clock()
        touched, self._touched = sorted(self._touched), set()
        cutoff = now - self.config.idle_ms

        def unit(tx: Tx) -> list[str]:
            env_repo.touch(tx, touched, now)
            if not self.config.branches:
                return []
            return env_repo.archive_idle(tx, cutoff, now)

        try:
            archived = await self._catalog.write(unit)
            if archived:
                log.info("branch environments archived after being idle: %s", archived)
            await self.refresh()
            if self.on_round is not None:
                await self.on_round()
        except errors.StoreError as exc:  # the next round tries again
            self._touched.update(touched)
            log.warning("environments round failed: %s", exc)

    async def _open(self, name: str, kind: str) -> None:
        lock = self._opening.setdefault(name, asyncio.Lock())
        async with lock:
            if name in self._live:
                return
            store = store_for(self._base_url, name)
            try:
                live = await self._start(name, kind, store)
            except Exception as exc:
                self.failed[name] = f"{type(exc).__name__}: {exc}"
                raise
            self.failed.pop(name, None)
            self._live[name] = live
            log.info("environment %r served (store %s)", name, _shown(store))

    async def _start(self, name: str, kind: str, store: EnvStore) -> Live[S]:
        """The environment's engine started and held if it must be, or nothing left running."""
        connector = await asyncio.to_thread(self._open_store, store)
        engine: Engine | None = None
        try:
            services, built = self._build(name, kind, connector, store.namespace)
            engine = built
            await engine.start()
            if self.on_open is not None:  # before it is served: held from its first request
                await self.on_open(name, services)
        except BaseException:
            if engine is not None:
                await _quietly(engine.stop())  # closes the connector too
            else:
                await _quietly(connector.close())
            raise
        return Live(name, kind, services, engine, connector)

    def _open_store(self, store: EnvStore) -> Connector:
        if store.schema is not None:
            create_schema(self._base_url, store.schema)
        # one reader: an extra environment costs each process 5 PostgreSQL connections
        # (writer, leaser, reader, LISTEN, realtime LISTEN), not the default one's 7
        return open_connector(store.url, self._durability, store.namespace, readers=1)

    async def _close(self, name: str) -> None:
        live = self._live.pop(name, None)
        if live is not None:
            await live.engine.stop()


async def _quietly(step: Awaitable[None]) -> None:
    try:
        await step
    except Exception as exc:
        log.warning("cleanup after a failed environment start: %r", exc)


def _shown(store: EnvStore) -> str:
    return f"schema {store.schema}" if store.schema else store.url or ":memory:"
