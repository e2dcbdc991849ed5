"""Mainspring quickstart: a durable "summarize transcript" function on the official Inngest SDK.

    pip install inngest fastapi uvicorn
    mainspring dev -u http://127.0.0.1:8000/api/inngest      # terminal 1 (server on :8288)
    INNGEST_DEV=1 uvicorn app:app --port 8000                 # terminal 2 (this app)
    curl -X POST http://127.0.0.1:8288/e/dev \\
         -d '{"name": "transcript/uploaded", "data": {"text": "hello durable world"}}'

Then open the run: GET http://127.0.0.1:8288/v1/events/<id>/runs and /v1/runs/<run_id>/steps.
"""

import datetime

import fastapi
import inngest
import inngest.fast_api

client = inngest.Inngest(app_id="quickstart")


@client.create_function(
    fn_id="summarize-transcript",
    trigger=inngest.TriggerEvent(event="transcript/uploaded"),
)
async def summarize_transcript(ctx: inngest.Context) -> dict[str, object]:
    text = str(ctx.event.data.get("text", ""))

    async def clean() -> list[str]:  # each step runs once; its result is memoized
        return [word.strip(".,!?").lower() for word in text.split()]

    words = await ctx.step.run("clean-transcript", clean)
    await ctx.step.sleep("cool-down", datetime.timedelta(seconds=1))  # durable sleep

    async def summarize() -> str:
        return " ".join(words[:5]) + (" ..." if len(words) > 5 else "")

    summary = await ctx.step.run("summarize", summarize)
    return {"words": len(words), "summary": summary}


app = fastapi.FastAPI()
inngest.fast_api.serve(app, client, [summarize_transcript])
