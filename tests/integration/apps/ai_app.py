"""Test app (official Python SDK, FastAPI): `step.ai.infer` (opcode `AIGateway`) against a
fake model service whose base URL comes with the event. App id `ai`. The key is a constant
here, never in an event, so the test can check it appears nowhere Mainspring keeps anything.
"""

from __future__ import annotations

from typing import Any

import fastapi
import inngest
import inngest.fast_api
from inngest.experimental import ai
from sidefx import record

AI_KEY = "sk-mainspring-py-0123456789abcdef"
client = inngest.Inngest(app_id="ai")


def _adapter(provider: str, base_url: str) -> Any:
    if provider == "anthropic":
        return ai.anthropic.Adapter(auth_key=AI_KEY, base_url=base_url, model="claude-test")
    return ai.openai.Adapter(auth_key=AI_KEY, base_url=base_url, model="gpt-test")


@client.create_function(fn_id="infer", trigger=inngest.TriggerEvent(event="ai/infer"))
async def infer(ctx: inngest.Context) -> dict[str, Any]:
    record("CALL", fn="infer", run_id=ctx.run_id, attempt=ctx.attempt)
    provider, base_url = str(ctx.event.data["provider"]), str(ctx.event.data["base_url"])
    body: dict[str, Any] = {"messages": [{"role": "user", "content": "Say hi"}]}
    if provider == "anthropic":
        body["max_tokens"] = 64
    answer = await ctx.step.ai.infer("infer", adapter=_adapter(provider, base_url), body=body)
    return {"answer": answer}


app = fastapi.FastAPI()
inngest.fast_api.serve(app, client, [infer])
