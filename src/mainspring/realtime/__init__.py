"""Realtime: channels and topics, subscription tokens, and the fan-out of published messages to
SSE and WebSocket subscribers (in memory within a process, through the database's pub/sub
between processes). The HTTP side is `api/realtime.py`; see docs/realtime.md."""

from mainspring.realtime.service import Realtime as Realtime
