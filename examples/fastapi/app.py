"""A FastAPI app on the official Inngest SDK, run against Mainspring: a daily digest.

`daily-digest` runs every morning (cron), loads the users and fans out one
`digest/user.requested` event per user; `user-digest` builds each user's report in a step that
takes minutes (rendering, an export, a model call…) and then delivers it. See README.md.

Environment:
    INNGEST_DEV=1, INNGEST_BASE_URL   the Mainspring server (http://127.0.0.1:8288)
    DIGEST_CRON       when the digest runs (default "TZ=UTC 0 7 * * *": every day at 07:00 UTC)
    REPORT_SECONDS    how long building one report takes (default 180: three minutes)
    USER_COUNT        how many (made-up) users there are (default 3)
"""

from __future__ import annotations

import asyncio
import datetime
import logging
import os
import time

import fastapi
import inngest
import inngest.fast_api

DIGEST_CRON = os.environ.get("DIGEST_CRON", "TZ=UTC 0 7 * * *")
REPORT_SECONDS = float(os.environ.get("REPORT_SECONDS", "180"))
USER_COUNT = int(os.environ.get("USER_COUNT", "3"))
PROGRESS_EVERY_S = 30.0

client = inngest.Inngest(app_id="fastapi-example")
log = logging.getLogger("fastapi-example")

# Stands in for your mail provider: what was delivered, for GET /digests.
delivered: list[dict[str, object]] = []


async def load_users() -> list[dict[str, str]]:
    """Stands in for a database query."""
    return [{"id": f"user-{k}", "email": f"user{k}@example.com"} for k in range(1, USER_COUNT + 1)]


@client.create_function(fn_id="daily-digest", trigger=inngest.TriggerCron(cron=DIGEST_CRON))
async def daily_digest(ctx: inngest.Context) -> dict[str, object]:
    users = await ctx.step.run("load-users", load_users)
    today = datetime.datetime.now(datetime.UTC).date().isoformat()
    # One event per user: each starts its own run, retried and observed on its own. The event id
    # makes a re-run of this function (or a second firing of the same day) send no duplicates.
    events = [
        inngest.Event(
            name="digest/user.requested",
            data={"user_id": user["id"], "email": user["email"], "date": today},
            id=f"digest-{today}-{user['id']}",
        )
        for user in users
    ]
    ids = await ctx.step.send_event("fan-out", events) if events else []
    return {"date": today, "users": len(users), "events": len(ids)}


async def build_report(user_id: str, date: str) -> dict[str, object]:
    """The slow part: minutes of work in one step (the server waits up to --call-timeout)."""
    started = time.monotonic()
    deadline = started + REPORT_SECONDS
    while (left := deadline - time.monotonic()) > 0:
        await asyncio.sleep(min(left, PROGRESS_EVERY_S))
        log.info("report for %s: %.0f s in", user_id, time.monotonic() - started)
    took = round(time.monotonic() - started, 3)
    return {"user_id": user_id, "date": date, "sections": 3, "took_s": took}


@client.create_function(
    fn_id="user-digest",
    trigger=inngest.TriggerEvent(event="digest/user.requested"),
    # Two reports at a time, whatever the number of users.
    concurrency=[inngest.Concurrency(limit=2)],
)
async def user_digest(ctx: inngest.Context) -> dict[str, object]:
    user_id = str(ctx.event.data["user_id"])
    date = str(ctx.event.data["date"])

    async def render() -> dict[str, object]:
        return await build_report(user_id, date)

    report = await ctx.step.run("build-report", render)

    async def deliver() -> str:
        delivered.append({"to": ctx.event.data["email"], "report": report})
        return f"sent to {ctx.event.data['email']}"

    receipt = await ctx.step.run("deliver", deliver)
    return {"user_id": user_id, "receipt": receipt, "report_took_s": report["took_s"]}


app = fastapi.FastAPI()
inngest.fast_api.serve(app, client, [daily_digest, user_digest])


@app.get("/digests")
async def list_digests() -> dict[str, object]:
    return {"delivered": delivered}
