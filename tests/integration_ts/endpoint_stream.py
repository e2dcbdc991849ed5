"""Calling the Node app's streaming durable endpoint (`/api/endpoint/streams`, app/server.js) the
way a browser would, with the SDK's own `fetchWithStream` (app/stream_caller.js), and holding
the run in its second step (behind a gate file) to see what reached the caller meanwhile."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from integration.harness import Api

from .node_subscriber import NodeScript
from .ts_harness import NODE_APP_DIR

# What the endpoint streams: two pieces in the caller's request, two after the server took over.
IN_REQUEST, THROUGH_SERVER = ["one", "two"], ["three", "four"]


@dataclass
class Streamed:
    events: list[dict[str, Any]]  # every line of the caller, in order
    run_id: str
    status_while_held: Any  # the run's status when "three" reached the caller

    def data(self) -> list[Any]:
        return [e["data"] for e in self.events if e.get("event") == "data"]

    def index_of(self, data: Any) -> int:
        return next(i for i, e in enumerate(self.events) if e.get("data") == data)

    def subscribed_at(self) -> str:
        """Where the caller followed the SDK to the run's stream."""
        [url] = [str(e["url"]) for e in self.events if e.get("event") == "subscribe"]
        return url

    def kinds(self) -> list[str]:
        return [str(e.get("event")) for e in self.events]

    def response(self) -> dict[str, Any]:
        [found] = [e for e in self.events if e.get("event") == "response"]
        return found


def stream_from_endpoint(
    app_port: int,
    log_dir: Path,
    api: Api,
    *,
    sse_origin: str | None = None,
    timeout: float = 30.0,
) -> Streamed:
    """Call the endpoint; once "three" (sent by a step the server called) has reached the
    caller, note the run's status, open the gate and read on to the caller's end."""
    gate = log_dir / "gate"
    url = httpx.URL(f"http://127.0.0.1:{app_port}/api/endpoint/streams", params={"gate": gate})
    env = {"URL": str(url), **({"SSE_ORIGIN": sse_origin} if sse_origin else {})}
    caller = NodeScript(NODE_APP_DIR / "stream_caller.js", env, log_dir / "stream-caller.log")
    events: list[dict[str, Any]] = []
    try:
        while (line := caller.next_line(timeout)) is not None:
            assert "error" not in line, f"{line}\n{caller.stderr()}"
            events.append(line)
            if line.get("data") == THROUGH_SERVER[0]:
                break
        else:
            raise AssertionError(f"the stream stopped early: {events}\n{caller.stderr()}")
        run_id = next(str(e["runId"]) for e in events if e["event"] == "metadata")
        held = (api.get_run(run_id) or {}).get("status")
        gate.touch()
        events.extend(caller.messages(timeout=timeout))
    finally:
        caller.stop()
    return Streamed(events, run_id, held)
