"""Realtime test app (official Python SDK's experimental realtime helpers).

App id `rt`. `publish` publishes `count` messages `{i, of}` to `channel`/`topic` with
`inngest.experimental.realtime.publish`, each inside its own step (published once even when
the function is replayed); `token` asks the server for a subscription token the SDK's way and
returns it.
"""

from __future__ import annotations

from typing import Any

import fastapi
import inngest
import inngest.fast_api
from inngest.experimental import realtime

client = inngest.Inngest(app_id="rt")


@client.create_function(fn_id="publish", trigger=inngest.TriggerEvent(event="rt/publish"))
async def publish(ctx: inngest.Context) -> int:
    data: dict[str, Any] = dict(ctx.event.data)
    count = int(data.get("count", 1))
    for i in range(count):

        async def send(i: int = i) -> None:
            await realtime.publish(
                client, str(data["channel"]), str(data.get("topic", "tick")), {"i": i, "of": count}
            )

        await ctx.step.run(f"publish-{i}", send)
    return count


@client.create_function(fn_id="token", trigger=inngest.TriggerEvent(event="rt/token"))
async def token(ctx: inngest.Context) -> dict[str, Any]:
    data: dict[str, Any] = dict(ctx.event.data)

    async def ask() -> dict[str, Any]:
        return dict(
            await realtime.get_subscription_token(
                client, str(data["channel"]), [str(t) for t in data["topics"]]
            )
        )

    return await ctx.step.run("ask", ask)


app = fastapi.FastAPI()
inngest.fast_api.serve(app, client, [publish, token])
