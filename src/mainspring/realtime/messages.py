"""A realtime message as subscribers receive it, encoded once for every subscriber (pure).

The shape is the Go server's `streamingtypes.Message`, as the TypeScript SDK's `subscribe`
parses it: `{kind, data, created_at, channel, topic, run_id?, stream_id?}`. Absent fields are
left out rather than sent as null: the SDK's schema takes a missing `run_id`, not a null one.

A raw message (`raw`) is different: text a durable endpoint tees to its run's `$stream` topic,
already made of SSE events, which subscribers receive exactly as it came (no envelope).
"""

from __future__ import annotations

import datetime
import json
from dataclasses import dataclass
from typing import Any

import orjson

DATA = "data"  # a published value
STREAM_START = "datastream-start"  # data: the stream id; chunks follow
STREAM_END = "datastream-end"
CHUNK = "chunk"  # data: a piece of text of the stream `stream_id`
STREAM_TOPIC = "$stream"  # a durable endpoint's raw output, on the channel named by its run id


@dataclass(frozen=True, slots=True)
class Topic:
    """What a subscription can receive: one topic of one channel."""

    channel: str
    name: str


def created_at(now_ms: int) -> str:
    """RFC 3339 in UTC with milliseconds, as Go's `time.Time` marshals (and JS parses)."""
    moment = datetime.datetime.fromtimestamp(now_ms / 1000, tz=datetime.UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now_ms % 1000:03d}Z"


def json_value(body: bytes) -> bytes:
    """The body as one line of JSON: itself when it is JSON, else a JSON string of its text
    (as the Go server does with a plain-text publish). A line break would end an SSE event
    early, so JSON spread over lines is written again compactly."""
    try:
        value = orjson.loads(body)
    except orjson.JSONDecodeError:
        try:
            # Integers past 64 bits, which orjson refuses; NaN and Infinity are not JSON.
            exact = json.loads(body, parse_constant=_not_json)
        except ValueError:
            return orjson.dumps(body.decode(errors="replace"))
        return json.dumps(exact, separators=(",", ":"), ensure_ascii=False).encode()
    if b"\n" in body or b"\r" in body:
        return orjson.dumps(value)
    return body.strip()


def _not_json(name: str) -> None:
    raise ValueError(f"{name} is not JSON")


class Outgoing:
    """One message, encoded once: the JSON object, the SSE event and the WebSocket text are
    each built at most once, however many subscribers receive it. `json` is what goes to the
    other processes; for all but a raw message it is also what subscribers receive."""

    __slots__ = ("_sse", "_text", "json", "topic")

    def __init__(
        self, topic: Topic, json: bytes, *, sse: bytes | None = None, text: str | None = None
    ) -> None:
        self.topic = topic
        self.json = json
        self._sse = sse
        self._text = text

    @property
    def sse(self) -> bytes:
        if self._sse is None:
            self._sse = b"data: " + self.json + b"\n\n"
        return self._sse

    @property
    def text(self) -> str:
        if self._text is None:
            self._text = self.json.decode()
        return self._text

    def __len__(self) -> int:
        return len(self.json)


def encode(
    kind: str,
    topic: Topic,
    data: bytes,
    now_ms: int,
    *,
    run_id: str | None = None,
    stream_id: str | None = None,
) -> Outgoing:
    """`data` is already JSON (see `json_value`); it is embedded as it is."""
    fields: dict[str, Any] = {
        "kind": kind,
        "channel": topic.channel,
        "topic": topic.name,
        "data": orjson.Fragment(data),
        "created_at": created_at(now_ms),
    }
    if run_id:
        fields["run_id"] = run_id
    if stream_id:
        fields["stream_id"] = stream_id
    return Outgoing(topic, orjson.dumps(fields))


def raw(topic: Topic, text: str) -> Outgoing:
    """Text passed on as it is: an SSE subscriber gets exactly these characters (they are SSE
    events already), a WebSocket one text frame. Between processes it travels as JSON
    `{"raw", "channel", "topic"}` (NOTIFY takes text only, and no NUL)."""
    envelope = orjson.dumps({"raw": text, "channel": topic.channel, "topic": topic.name})
    return Outgoing(topic, envelope, sse=text.encode(), text=text)


def decode(json: bytes) -> Outgoing | None:
    """A message another process published (its JSON as sent); None if it is not one."""
    try:
        fields = orjson.loads(json)
        topic = Topic(str(fields["channel"]), str(fields["topic"]))
    except (orjson.JSONDecodeError, KeyError, TypeError):
        return None
    text = fields.get("raw")
    if isinstance(text, str):
        return Outgoing(topic, json, sse=text.encode(), text=text)
    return Outgoing(topic, json)
