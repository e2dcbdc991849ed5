"""Dev mode's stand-in for the auth gate: every request acts as one fixed actor (`dev`)."""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send

from mainspring.audit import actors


class ActingAs:
    def __init__(self, app: ASGIApp, *, actor: str) -> None:
        self.app = app
        self.actor = actor

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        previous = actors.enter(self.actor)
        try:
            await self.app(scope, receive, send)
        finally:
            actors.leave(previous)
