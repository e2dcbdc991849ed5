"""Black-box harness: a real Mainspring server and a real SDK app, each in its own process.

Nothing here talks to Mainspring in-process: the server is started as
``python -m mainspring dev …`` on a free loopback port with a SQLite file in a temp
directory (or, with ``MAINSPRING_TEST_DIALECT=postgres``, a fresh PostgreSQL database cloned
from a per-session template), and the app is a FastAPI module served by uvicorn using the
official ``inngest`` SDK. Tests observe the system through the server's HTTP API and through a
side-effect log (JSON lines) that the apps append to from inside step bodies.
"""

from __future__ import annotations

import contextlib
import datetime
import json
import os
import secrets
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.parse
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Self, TypeVar

import httpx
import psycopg
import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
APPS_DIR = Path(__file__).resolve().parent / "apps"
SERVE_PATH = "/api/inngest"
TERMINAL_STATUSES = frozenset({"Completed", "Failed", "Cancelled"})
POLL_INTERVAL = 0.05

T = TypeVar("T")
JSONDict = dict[str, Any]


def free_port() -> int:
    """Ask the kernel for a free TCP port on loopback."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _clean_env(extra: Mapping[str, str]) -> dict[str, str]:
    """The current environment without INNGEST_*/MAINSPRING_* settings, plus `extra`."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("INNGEST_", "MAINSPRING_"))
    }
    env["PYTHONUNBUFFERED"] = "1"
    env.update(extra)
    return env


def _tail(path: Path, lines: int = 40) -> str:
    try:
        text = path.read_text(errors="replace")
    except FileNotFoundError:
        return "<no log>"
    return "\n".join(text.splitlines()[-lines:])


def wait_until(
    probe: Callable[[], T | None],
    *,
    timeout: float,
    what: str,
    interval: float = POLL_INTERVAL,
    on_timeout: Callable[[], str] | None = None,
) -> T:
    """Call `probe` until it returns something other than None; fail after `timeout` s."""
    deadline = time.monotonic() + timeout
    while True:
        result = probe()
        if result is not None:
            return result
        if time.monotonic() >= deadline:
            detail = on_timeout() if on_timeout is not None else ""
            raise AssertionError(f"timed out after {timeout:.1f}s waiting for {what}\n{detail}")
        time.sleep(interval)


def assert_stays(
    check: Callable[[], bool], *, duration: float, what: str, interval: float = 0.1
) -> None:
    """Assert that `check()` stays true for `duration` seconds (for "nothing more happens")."""
    deadline = time.monotonic() + duration
    while True:
        assert check(), f"expected {what} to hold for {duration:.1f}s, but it stopped holding"
        if time.monotonic() >= deadline:
            return
        time.sleep(interval)


# --------------------------------------------------------------------------------------
# Databases: a SQLite file, or a fresh PostgreSQL database cloned from a session template
# --------------------------------------------------------------------------------------

DIALECT_ENV = "MAINSPRING_TEST_DIALECT"
POSTGRES_URL_ENV = "MAINSPRING_TEST_POSTGRES_URL"
DEFAULT_POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/test"
DIALECTS = ("sqlite", "postgres")
PG_CONNECT_TIMEOUT = 3


def server_dialect() -> str:
    """The dialect the integration servers use: $MAINSPRING_TEST_DIALECT (default sqlite)."""
    value = os.environ.get(DIALECT_ENV, "").strip().lower() or "sqlite"
    if value == "postgresql":
        value = "postgres"
    if value not in DIALECTS:
        raise pytest.UsageError(f"{DIALECT_ENV}={value!r}: expected one of {', '.join(DIALECTS)}")
    return value


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in {"true", "1", "yes"}


def postgres_test_url() -> str:
    return os.environ.get(POSTGRES_URL_ENV, "").strip() or DEFAULT_POSTGRES_URL


def redact_url(url: str) -> str:
    """The URL without its password (for messages)."""
    parts = urllib.parse.urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
    return urllib.parse.urlunsplit(parts._replace(netloc=netloc))


def with_database(url: str, dbname: str) -> str:
    """`url` pointing at database `dbname` instead (host, user, options kept)."""
    return urllib.parse.urlunsplit(urllib.parse.urlsplit(url)._replace(path=f"/{dbname}"))


def database_name(url: str) -> str:
    return urllib.parse.urlsplit(url).path.lstrip("/")


def _quote_ident(name: str) -> str:
    assert name.replace("_", "").isalnum(), f"unexpected database name {name!r}"
    return f'"{name}"'


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class PostgresDatabases:
    """Fresh databases for tests on the server at `base_url`.

    A template `ms_template_<pid>` gets the schema once per test session (by running
    `python -m mainspring migrate`, the way an operator would); every `create()` is then a
    `CREATE DATABASE ms_<pid>_<random> TEMPLATE ms_template_<pid>` (tens of milliseconds).
    `drop()` terminates leftover connections first. `close()` drops whatever is left.
    """

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.pid = os.getpid()
        self.template = f"ms_template_{self.pid}"
        self._created: set[str] = set()
        self._template_ready = False
        self._template_error: str | None = None

    def _admin(self) -> psycopg.Connection[Any]:
        return psycopg.connect(self.base_url, autocommit=True, connect_timeout=PG_CONNECT_TIMEOUT)

    def url(self, dbname: str) -> str:
        return with_database(self.base_url, dbname)

    def ensure_template(self) -> None:
        if self._template_ready:
            return
        if self._template_error is not None:
            pytest.fail(self._template_error, pytrace=False)
        self._drop_stale()
        self._drop(self.template)
        with self._admin() as conn:
            conn.execute(f"CREATE DATABASE {_quote_ident(self.template)}")
        cmd = [sys.executable, "-m", "mainspring", "migrate", "--db", self.url(self.template)]
        result = subprocess.run(
            cmd, env=_clean_env({}), capture_output=True, text=True, timeout=120, check=False
        )
        if result.returncode != 0:
            self._drop(self.template)
            self._template_error = (
                f"`mainspring migrate` of the template database {self.template} failed "
                f"(exit {result.returncode}):\n{result.stdout}{result.stderr}"
            )
            pytest.fail(self._template_error, pytrace=False)
        self._template_ready = True

    def create(self) -> str:
        """A fresh, migrated database; returns its URL."""
        self.ensure_template()
        name = f"ms_{self.pid}_{secrets.token_hex(4)}"
        with self._admin() as conn:
            conn.execute(
                f"CREATE DATABASE {_quote_ident(name)} TEMPLATE {_quote_ident(self.template)}"
            )
        self._created.add(name)
        return self.url(name)

    def drop(self, url: str) -> None:
        name = database_name(url)
        self._drop(name)
        self._created.discard(name)

    def close(self) -> None:
        for name in sorted(self._created):
            self._drop(name)
        self._created.clear()
        if self._template_ready:
            self._drop(self.template)
            self._template_ready = False

    def _drop(self, name: str) -> None:
        with self._admin() as conn:
            conn.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = %s AND pid <> pg_backend_pid()",
                (name,),
            )
            conn.execute(f"DROP DATABASE IF EXISTS {_quote_ident(name)} WITH (FORCE)")

    def _drop_stale(self) -> None:
        """Drop databases left by earlier test sessions on this host that died (kill -9)."""
        host = urllib.parse.urlsplit(self.base_url).hostname or "localhost"
        if host not in {"127.0.0.1", "localhost", "::1"} and not host.startswith("/"):
            return  # a shared server: their pids are not ours to judge
        with self._admin() as conn:
            rows = conn.execute(
                "SELECT datname FROM pg_database WHERE datname LIKE 'ms\\_%'"
            ).fetchall()
        for (name,) in rows:
            parts = str(name).split("_")
            pid_text = parts[2] if parts[1] == "template" and len(parts) == 3 else parts[1]
            if pid_text.isdigit() and int(pid_text) != self.pid and not _pid_alive(int(pid_text)):
                self._drop(str(name))


_postgres: PostgresDatabases | None = None
_postgres_unavailable: str | None = None


def postgres_unavailable_reason() -> str | None:
    """Why PostgreSQL tests were skipped in this session, if they were."""
    return _postgres_unavailable


def postgres_databases() -> PostgresDatabases:
    """The session's `PostgresDatabases`, after checking the server answers.

    An unreachable server skips the calling test with a clear reason, or fails it when the
    environment has CI=true (CI must not silently skip a dialect).
    """
    global _postgres, _postgres_unavailable
    if _postgres is None and _postgres_unavailable is None:
        url = postgres_test_url()
        try:
            with psycopg.connect(url, autocommit=True, connect_timeout=PG_CONNECT_TIMEOUT) as c:
                c.execute("SELECT 1")
        except psycopg.Error as exc:
            first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else repr(exc)
            _postgres_unavailable = (
                f"PostgreSQL at {redact_url(url)} is unreachable ({first_line}); "
                f"start it (`make services`) or set {POSTGRES_URL_ENV}"
            )
        else:
            _postgres = PostgresDatabases(url)
    if _postgres is None:
        assert _postgres_unavailable is not None
        if in_ci():
            pytest.fail(f"CI=true and {_postgres_unavailable}", pytrace=False)
        pytest.skip(f"SKIPPED FOR LACK OF POSTGRESQL: {_postgres_unavailable}")
    return _postgres


def close_postgres() -> None:
    """Drop the session's template and any database a test did not drop (session teardown)."""
    if _postgres is not None:
        _postgres.close()


def fresh_database(sqlite_path: Path) -> str:
    """A `--db` value for a new server: `sqlite_path`, or a fresh PostgreSQL database."""
    if server_dialect() == "postgres":
        return postgres_databases().create()
    return str(sqlite_path)


def drop_database(db: str) -> None:
    """Drop a database made by `fresh_database` (no-op for SQLite files: tmp dirs clean up)."""
    if db.startswith(("postgres://", "postgresql://")) and _postgres is not None:
        _postgres.drop(db)


def db_execute(db: str, sql: str, *params: Any) -> int:
    """Run one statement on a server's database behind its back (`%s` placeholders, both
    dialects); the changed-row count. For tests that break state on purpose."""
    if db.startswith(("postgres://", "postgresql://")):
        with psycopg.connect(db, autocommit=True, connect_timeout=PG_CONNECT_TIMEOUT) as pg:
            return pg.execute(sql.encode(), params).rowcount
    with contextlib.closing(sqlite3.connect(db, timeout=30)) as lite, lite:
        return lite.execute(sql.replace("%s", "?"), params).rowcount


def requires_postgres_dialect() -> pytest.MarkDecorator:
    """Mark for tests that only make sense on PostgreSQL (skipped under the SQLite run)."""
    return pytest.mark.skipif(
        server_dialect() != "postgres",
        reason=f"PostgreSQL only: run with {DIALECT_ENV}=postgres (make test does)",
    )


# --------------------------------------------------------------------------------------
# Processes
# --------------------------------------------------------------------------------------


class ServerProcess:
    """A `python -m mainspring dev` subprocess bound to a fixed port and database.

    The database is `db` when given (a path or a URL, e.g. one PostgreSQL database shared by
    several servers); otherwise `db_path` under the SQLite dialect, or a fresh PostgreSQL
    database under MAINSPRING_TEST_DIALECT=postgres, created here and kept for every restart
    of this object (`release_db()` drops it).
    """

    def __init__(
        self,
        *,
        port: int,
        db_path: Path,
        log_dir: Path,
        app_urls: Sequence[str] = (),
        backoff_base: float = 0.2,
        poll_interval: float = 2.0,
        extra_args: Sequence[str] = (),
        name: str = "server",
        db: str | None = None,
        extra_env: Mapping[str, str] | None = None,
    ) -> None:
        self.port = port
        self.extra_env = dict(extra_env or {})
        self.db_path = db_path
        self._owns_db = db is None and server_dialect() == "postgres"
        self.db = db if db is not None else fresh_database(db_path)
        self.app_urls = list(app_urls)
        self.backoff_base = backoff_base
        self.poll_interval = poll_interval
        self.extra_args = list(extra_args)
        log_dir.mkdir(parents=True, exist_ok=True)
        self.stdout_path = log_dir / f"{name}.stdout.log"
        self.stderr_path = log_dir / f"{name}.stderr.log"
        self.cwd = log_dir
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def command(self) -> list[str]:
        cmd = [
            sys.executable,
            "-m",
            "mainspring",
            "dev",
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--db",
            self.db,
            "--no-discovery",
            "--poll-interval",
            str(self.poll_interval),
            "--backoff-base",
            str(self.backoff_base),
        ]
        for app_url in self.app_urls:
            cmd += ["-u", app_url]
        return cmd + self.extra_args

    def server_env(self) -> dict[str, str]:
        """Environment a subclass adds (secrets go here, never on the command line)."""
        return {}

    def start(self, *, timeout: float = 30.0) -> None:
        assert self.proc is None or self.proc.poll() is not None, "server already running"
        with self.stdout_path.open("ab") as out, self.stderr_path.open("ab") as err:
            err.write(f"--- start {time.time():.3f}: {' '.join(self.command())}\n".encode())
            err.flush()
            self.proc = subprocess.Popen(
                self.command(),
                cwd=self.cwd,
                env=_clean_env({**self.extra_env, **self.server_env()}),
                stdout=out,
                stderr=err,
                stdin=subprocess.DEVNULL,
            )
        self.wait_healthy(timeout=timeout)

    def wait_healthy(self, *, timeout: float) -> None:
        def probe() -> bool | None:
            if self.proc is not None and self.proc.poll() is not None:
                raise AssertionError(
                    f"server exited with code {self.proc.returncode} before becoming healthy\n"
                    f"{self.log_tail()}"
                )
            try:
                resp = httpx.get(f"{self.url}/health", timeout=1.0)
            except httpx.TransportError:
                return None
            return True if resp.status_code == 200 else None

        wait_until(probe, timeout=timeout, what="GET /health == 200", on_timeout=self.log_tail)

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def terminate(
        self, *, timeout: float = 15.0, sig: signal.Signals = signal.SIGTERM
    ) -> int | None:
        """Send `sig` and wait: the exit code, or None if still running after `timeout`."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return None

    def kill(self) -> None:
        """SIGKILL (kill -9) and reap."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(timeout=10)

    def stop(self) -> None:
        """Best-effort shutdown for fixture teardown: SIGTERM, then SIGKILL."""
        if self.terminate(timeout=10.0) is None:
            self.kill()

    def release_db(self) -> None:
        """Drop the PostgreSQL database this object created (after the server stopped)."""
        if self._owns_db:
            drop_database(self.db)
            self._owns_db = False

    @contextlib.contextmanager
    def serving(self) -> Iterator[Self]:
        """Started for the block; stopped and its database released afterwards."""
        self.start()
        try:
            yield self
        finally:
            self.stop()
            self.release_db()

    def log_tail(self, lines: int = 40) -> str:
        return f"--- server stderr (tail) ---\n{_tail(self.stderr_path, lines)}"


class AppProcess:
    """`uvicorn <module>:app` serving an SDK app that talks to the given server."""

    def __init__(
        self,
        module: str,
        *,
        port: int,
        server_url: str,
        log_dir: Path,
        side_effect_log: Path | None = None,
        app_dir: Path = APPS_DIR,
        extra_env: Mapping[str, str] | None = None,
        name: str = "app",
    ) -> None:
        self.module = module
        self.port = port
        self.server_url = server_url
        self.side_effect_log = side_effect_log
        self.app_dir = app_dir
        self.extra_env = dict(extra_env or {})
        log_dir.mkdir(parents=True, exist_ok=True)
        self.log_path = log_dir / f"{name}.log"
        self.cwd = log_dir
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """The serve URL the server must call (`-u`)."""
        return f"http://127.0.0.1:{self.port}{SERVE_PATH}"

    def env(self) -> dict[str, str]:
        extra = {
            "INNGEST_DEV": "1",
            "INNGEST_BASE_URL": self.server_url,
            "TZ": "UTC",
            **self.extra_env,
        }
        if self.side_effect_log is not None:
            extra["SIDE_EFFECT_LOG"] = str(self.side_effect_log)
        return _clean_env(extra)

    def start(self, *, timeout: float = 30.0) -> None:
        assert self.proc is None or self.proc.poll() is not None, "app already running"
        cmd = [
            sys.executable,
            "-m",
            "uvicorn",
            f"{self.module}:app",
            "--app-dir",
            str(self.app_dir),
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--log-level",
            "warning",
        ]
        with self.log_path.open("ab") as log:
            self.proc = subprocess.Popen(
                cmd,
                cwd=self.cwd,
                env=self.env(),
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )

        def probe() -> bool | None:
            if self.proc is not None and self.proc.poll() is not None:
                raise AssertionError(
                    f"app {self.module} exited with code {self.proc.returncode}\n"
                    f"{_tail(self.log_path)}"
                )
            try:
                resp = httpx.get(self.url, timeout=1.0)
            except httpx.TransportError:
                return None
            # 401: an app in cloud mode refuses an unsigned GET, which still proves it is up
            return True if resp.status_code in (200, 401) else None

        wait_until(
            probe,
            timeout=timeout,
            what=f"app {self.module} to answer GET {SERVE_PATH}",
            on_timeout=lambda: _tail(self.log_path),
        )

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=10)

    def sync(self) -> httpx.Response:
        """Trigger a sync the way a deploy hook would: `PUT <app url>`."""
        return httpx.put(
            self.url,
            json={"url": self.url},
            headers={"X-Inngest-Server-Kind": "dev"},
            timeout=15.0,
        )


# --------------------------------------------------------------------------------------
# Server API client
# --------------------------------------------------------------------------------------


class Api:
    """Thin client over Mainspring's HTTP API with polling helpers that have deadlines."""

    def __init__(self, server: ServerProcess) -> None:
        self.server = server
        self.http = httpx.Client(base_url=server.url, timeout=15.0)

    def close(self) -> None:
        self.http.close()

    def reset(self) -> None:
        """Drop pooled connections (call after the server was restarted)."""
        self.http.close()
        self.http = httpx.Client(base_url=self.server.url, timeout=15.0)

    # ---- raw calls ------------------------------------------------------------------

    def get_json(self, path: str, **params: Any) -> Any:
        resp = self.http.get(path, params={k: v for k, v in params.items() if v is not None})
        assert resp.status_code == 200, f"GET {path} -> {resp.status_code}: {resp.text[:500]}"
        return resp.json()

    def data(self, path: str, **params: Any) -> Any:
        """GET a `/v1` resource and unwrap its `{"data": …}` envelope."""
        body = self.get_json(path, **params)
        assert isinstance(body, dict) and "data" in body, f"GET {path}: no data envelope: {body}"
        return body["data"]

    def post_events_raw(
        self,
        content: bytes,
        *,
        key: str = "test",
        headers: Mapping[str, str] | None = None,
    ) -> httpx.Response:
        all_headers = {"Content-Type": "application/json", **(headers or {})}
        return self.http.post(f"/e/{key}", content=content, headers=all_headers)

    def send_events(self, events: Sequence[JSONDict] | JSONDict, *, key: str = "test") -> list[str]:
        """POST /e/<key> like curl would; returns the internal ids."""
        resp = self.http.post(f"/e/{key}", json=events)
        assert resp.status_code == 200, f"POST /e/{key} -> {resp.status_code}: {resp.text[:500]}"
        body = resp.json()
        assert body.get("status") == 200, body
        ids = body["ids"]
        expected = len(events) if isinstance(events, list) else 1
        assert isinstance(ids, list) and len(ids) == expected, body
        return [str(i) for i in ids]

    def send_event(self, name: str, data: JSONDict | None = None, **fields: Any) -> str:
        event: JSONDict = {"name": name, "data": data or {}, **fields}
        return self.send_events(event)[0]

    def get_run(self, run_id: str) -> JSONDict | None:
        resp = self.http.get(f"/v1/runs/{run_id}")
        if resp.status_code == 404:
            return None
        assert resp.status_code == 200, f"GET /v1/runs/{run_id} -> {resp.status_code}"
        run: JSONDict = resp.json()["data"]
        return run

    def run_steps(self, run_id: str) -> list[JSONDict]:
        steps: list[JSONDict] = self.data(f"/v1/runs/{run_id}/steps")
        return steps

    def list_runs(
        self, function_id: str, *, status: str | None = None, limit: int = 1000
    ) -> list[JSONDict]:
        runs: list[JSONDict] = self.data(
            "/v1/runs", function_id=function_id, status=status, limit=limit
        )
        return runs

    def list_events(self, name: str | None = None, *, limit: int = 1000) -> list[JSONDict]:
        events: list[JSONDict] = self.data("/v1/events", name=name, limit=limit)
        return events

    def dev_info(self) -> JSONDict:
        info: JSONDict = self.get_json("/dev")
        return info

    def function_slugs(self) -> set[str]:
        return {str(fn["slug"]) for fn in self.dev_info().get("functions", [])}

    # ---- waits ----------------------------------------------------------------------

    def wait_for_sync(self, slugs: Iterable[str], *, timeout: float = 20.0) -> None:
        wanted = set(slugs)

        def probe() -> bool | None:
            return True if wanted <= self.function_slugs() else None

        wait_until(
            probe,
            timeout=timeout,
            what=f"functions {sorted(wanted)} to be synced",
            on_timeout=lambda: f"GET /dev: {self.dev_info()}\n{self.server.log_tail()}",
        )

    def zombies(self, grace: float | None = 0) -> list[JSONDict]:
        """Running runs with nothing queued, waiting or leased (`GET /v1/zombies`)."""
        found: list[JSONDict] = self.data("/v1/zombies", grace=grace)
        return found

    def assert_no_zombies(self) -> None:
        """The invariant every test may end with: no Running run is stranded."""
        found = self.zombies()
        assert not found, f"zombie runs (Running with nothing queued): {found}"

    def wait_for_run_status(
        self, run_id: str, statuses: Iterable[str] | str = "Completed", *, timeout: float = 20.0
    ) -> JSONDict:
        wanted = {statuses} if isinstance(statuses, str) else set(statuses)
        last: list[JSONDict | None] = [None]

        def probe() -> JSONDict | None:
            run = self.get_run(run_id)
            last[0] = run
            if run is None:
                return None
            status = run.get("status")
            if status in wanted:
                return run
            if status in TERMINAL_STATUSES:
                raise AssertionError(
                    f"run {run_id} ended {status}, expected {sorted(wanted)}: "
                    f"output={run.get('output')!r}"
                )
            return None

        return wait_until(
            probe,
            timeout=timeout,
            what=f"run {run_id} to reach {sorted(wanted)}",
            on_timeout=lambda: f"last seen: {last[0]}\n{self.server.log_tail()}",
        )

    def runs_for_event(
        self, internal_id: str, *, count: int = 1, timeout: float = 20.0
    ) -> list[JSONDict]:
        """Poll GET /v1/events/{id}/runs until at least `count` runs are listed."""

        def probe() -> list[JSONDict] | None:
            resp = self.http.get(f"/v1/events/{internal_id}/runs")
            if resp.status_code == 404:
                return None
            assert resp.status_code == 200, f"/v1/events/{internal_id}/runs -> {resp.status_code}"
            runs: list[JSONDict] = resp.json()["data"]
            return runs if len(runs) >= count else None

        return wait_until(
            probe,
            timeout=timeout,
            what=f"{count} run(s) for event {internal_id}",
            on_timeout=self.server.log_tail,
        )

    def run_for_event(self, internal_id: str, *, timeout: float = 20.0) -> JSONDict:
        runs = self.runs_for_event(internal_id, timeout=timeout)
        assert len(runs) == 1, f"expected exactly one run for event {internal_id}, got {runs}"
        return runs[0]

    def trigger_and_wait(
        self,
        name: str,
        data: JSONDict | None = None,
        *,
        statuses: Iterable[str] | str = "Completed",
        timeout: float = 20.0,
    ) -> JSONDict:
        """Send one event, find the single run it starts and wait for it to end."""
        event_id = self.send_event(name, data)
        run = self.run_for_event(event_id, timeout=timeout)
        return self.wait_for_run_status(str(run["run_id"]), statuses, timeout=timeout)


# --------------------------------------------------------------------------------------
# Side-effect log (written by the apps, see apps/sidefx.py)
# --------------------------------------------------------------------------------------


class SideEffects:
    """Reader for the JSON-lines log the apps append to from step bodies."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def read(self) -> list[JSONDict]:
        try:
            raw = self.path.read_text()
        except FileNotFoundError:
            return []
        # The last line may be half-written while the app is appending: ignore it.
        entries: list[JSONDict] = []
        for line in raw.splitlines():
            with contextlib.suppress(json.JSONDecodeError):
                entries.append(json.loads(line))
        return entries

    def select(self, **match: Any) -> list[JSONDict]:
        return [e for e in self.read() if all(e.get(k) == v for k, v in match.items())]

    def wait_for(
        self, predicate: Callable[[list[JSONDict]], bool], *, timeout: float, what: str
    ) -> list[JSONDict]:
        def probe() -> list[JSONDict] | None:
            entries = self.read()
            return entries if predicate(entries) else None

        return wait_until(probe, timeout=timeout, what=what)


# --------------------------------------------------------------------------------------
# A server + app pair
# --------------------------------------------------------------------------------------


@dataclass
class Stack:
    server: ServerProcess
    app: AppProcess
    api: Api
    sidefx: SideEffects
    workdir: Path


@contextlib.contextmanager
def running_stack(
    workdir: Path,
    app_module: str,
    slugs: Iterable[str],
    *,
    server_args: Sequence[str] = (),
    backoff_base: float = 0.2,
    poll_interval: float = 2.0,
    app_dir: Path = APPS_DIR,
    app_env: Mapping[str, str] | None = None,
    server_env: Mapping[str, str] | None = None,
) -> Iterator[Stack]:
    """Start app + server on fresh ports, wait until `slugs` are synced, yield, tear down."""
    server_port, app_port = free_port(), free_port()
    while app_port == server_port:
        app_port = free_port()
    sidefx_path = workdir / "side_effects.jsonl"
    server = ServerProcess(
        port=server_port,
        db_path=workdir / "mainspring.db",
        log_dir=workdir,
        app_urls=[f"http://127.0.0.1:{app_port}{SERVE_PATH}"],
        backoff_base=backoff_base,
        poll_interval=poll_interval,
        extra_args=server_args,
        extra_env=server_env,
    )
    app = AppProcess(
        app_module,
        port=app_port,
        server_url=server.url,
        log_dir=workdir,
        side_effect_log=sidefx_path,
        app_dir=app_dir,
        extra_env=app_env,
    )
    stack = Stack(
        server=server,
        app=app,
        api=Api(server),
        sidefx=SideEffects(sidefx_path),
        workdir=workdir,
    )
    try:
        app.start()
        server.start()
        stack.api.wait_for_sync(slugs)
        yield stack
    finally:
        # Tests may swap in a new app or restart the server: stop whatever is current.
        stack.api.close()
        stack.server.stop()
        stack.app.stop()
        stack.server.release_db()


def distinct_ports(count: int) -> list[int]:
    ports: list[int] = []
    while len(ports) < count:
        port = free_port()
        if port not in ports:
            ports.append(port)
    return ports


@dataclass
class Cluster:
    """Several Mainspring processes on one PostgreSQL database, and one app they all call."""

    servers: list[ServerProcess]
    apis: list[Api]
    app: AppProcess
    sidefx: SideEffects


@contextlib.contextmanager
def postgres_cluster(
    workdir: Path,
    app_module: str,
    slugs: Iterable[str],
    processes: int,
    *,
    server_args: Sequence[str] = (),
    app_env: Mapping[str, str] | None = None,
    app_factory: Callable[[int, str, SideEffects], AppProcess] | None = None,
    app_server: int = 0,
) -> Iterator[Cluster]:
    """Start `processes` servers on one fresh database and the app, wait until every server has
    `slugs` synced, yield, tear everything down (the database too). The app's API origin (events,
    checkpoints) is server `app_server`; `app_factory(port, server_url, sidefx)` builds another
    kind of app than the Python module `app_module` (the Node app)."""
    databases = postgres_databases()
    db = databases.create()
    app_port, *server_ports = distinct_ports(1 + processes)
    app_url = f"http://127.0.0.1:{app_port}{SERVE_PATH}"
    servers = [
        ServerProcess(
            port=port,
            db_path=workdir / "unused.db",
            db=db,
            log_dir=workdir,
            app_urls=[app_url],
            extra_args=server_args,
            name=f"server{k}",
        )
        for k, port in enumerate(server_ports)
    ]
    sidefx = SideEffects(workdir / "side_effects.jsonl")
    server_url = servers[app_server].url
    app = (
        app_factory(app_port, server_url, sidefx)
        if app_factory is not None
        else AppProcess(
            app_module,
            port=app_port,
            server_url=server_url,
            log_dir=workdir,
            side_effect_log=sidefx.path,
            extra_env=app_env,
        )
    )
    apis = [Api(server) for server in servers]
    try:
        app.start()
        for server in servers:
            server.start()
        for api in apis:
            api.wait_for_sync(slugs)
        yield Cluster(servers, apis, app, sidefx)
    finally:
        for api in apis:
            api.close()
        for server in servers:
            server.stop()
        app.stop()
        databases.drop(db)


# --------------------------------------------------------------------------------------
# Helpers for waits, cancellation, invoke, cron and large state (issue 4)
# --------------------------------------------------------------------------------------


def run_history(api: Api, run_id: str) -> list[JSONDict]:
    """`GET /v1/runs/{run_id}/history` (oldest first)."""
    history: list[JSONDict] = api.data(f"/v1/runs/{run_id}/history")
    return history


def wait_for_history(
    api: Api,
    run_id: str,
    *,
    kind: str | None = None,
    step_name: str | None = None,
    timeout: float = 20.0,
) -> JSONDict:
    """Poll the run's history until an entry with `kind` (and/or `step_name`) shows up."""

    def probe() -> JSONDict | None:
        for entry in run_history(api, run_id):
            if kind is not None and entry.get("kind") != kind:
                continue
            if step_name is not None and entry.get("step_name") != step_name:
                continue
            return entry
        return None

    return wait_until(
        probe,
        timeout=timeout,
        what=f"history entry kind={kind} step_name={step_name} of run {run_id}",
        on_timeout=lambda: (
            f"history: {run_history(api, run_id)}\nrun: {api.get_run(run_id)}\n"
            f"{api.server.log_tail()}"
        ),
    )


def start_run(api: Api, name: str, data: JSONDict | None = None, **fields: Any) -> str:
    """Send one event and return the id of the single run it starts."""
    event_id = api.send_event(name, data, **fields)
    return str(api.run_for_event(event_id)["run_id"])


def cancel_run(api: Api, run_id: str) -> httpx.Response:
    """`DELETE /v1/runs/{run_id}`."""
    return api.http.delete(f"/v1/runs/{run_id}")


def lifecycle_events(api: Api, name: str, run_id: str) -> list[JSONDict]:
    """Stored events called `name` (e.g. inngest/function.cancelled) about `run_id`."""
    return [e for e in api.list_events(name) if (e.get("data") or {}).get("run_id") == run_id]


def rfc3339(epoch: float) -> str:
    """Epoch seconds → RFC 3339 UTC with milliseconds, e.g. 2026-11-24T07:00:00.123Z."""
    moment = datetime.datetime.fromtimestamp(epoch, tz=datetime.UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def parse_rfc3339(text: str) -> float:
    """RFC 3339 (any offset, `Z`, optional fraction) → epoch seconds."""
    moment = datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))
    assert moment.tzinfo is not None, f"timestamp without offset: {text!r}"
    return moment.timestamp()


def restart_app(stack: Stack, *, extra_env: Mapping[str, str], name: str) -> AppProcess:
    """Stop the stack's app and start `extra_env`'s variant of it on the same port.

    The new app becomes `stack.app` (so the stack's teardown stops it). Not synced: call
    `.sync()` on the result.
    """
    old = stack.app
    old.stop()
    new = AppProcess(
        old.module,
        port=old.port,
        server_url=old.server_url,
        log_dir=stack.workdir,
        side_effect_log=stack.sidefx.path,
        app_dir=old.app_dir,
        extra_env={**old.extra_env, **extra_env},
        name=name,
    )
    stack.app = new
    new.start()
    return new
