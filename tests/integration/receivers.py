"""Loopback receivers for alert channels: an HTTP server recording JSON posts (generic webhook,
Slack incoming webhook) and an SMTP server recording mail (aiosmtpd)."""

from __future__ import annotations

import email
import email.message
import email.policy
import http.server
import json
import threading
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from .harness import JSONDict, free_port


class Webhook:
    """A loopback HTTP server recording every JSON body posted to it; answers `status`."""

    def __init__(self, status: int = 204) -> None:
        received: list[JSONDict] = []
        self.received = received
        self.status = status
        owner = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("content-length", "0"))
                received.append(json.loads(self.rfile.read(length)))
                self.send_response(owner.status)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def posted(self, rule: str, state: str) -> list[JSONDict]:
        return [p for p in self.received if p["rule"] == rule and p["state"] == state]


class SlackHook(Webhook):
    """A Slack incoming webhook stand-in: answers 200 "ok" as Slack does; reads Block Kit."""

    def __init__(self) -> None:
        super().__init__(status=200)

    def posted(self, rule: str, state: str) -> list[JSONDict]:
        # The header block reads "[mainspring] FIRING: <rule>".
        header = f"[mainspring] {state.upper()}: {rule}"
        return [p for p in self.received if p["blocks"][0]["text"]["text"] == header]


class Mailbox:
    """An SMTP server on loopback (aiosmtpd) keeping every message it accepts."""

    def __init__(self) -> None:
        self.messages: list[email.message.EmailMessage] = []
        self.envelopes: list[tuple[str, list[str]]] = []
        self.port = free_port()
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        content = envelope.content
        raw = content if isinstance(content, bytes) else str(content).encode()
        message = email.message_from_bytes(raw, policy=email.policy.default)
        assert isinstance(message, email.message.EmailMessage)
        self.envelopes.append((str(envelope.mail_from), list(envelope.rcpt_tos)))
        self.messages.append(message)
        return "250 OK"

    def close(self) -> None:
        self.controller.stop()

    def mailed(self, rule: str, state: str) -> list[email.message.EmailMessage]:
        return [
            m
            for m in self.messages
            if m["X-Mainspring-Rule"] == rule and m["X-Mainspring-State"] == state
        ]
