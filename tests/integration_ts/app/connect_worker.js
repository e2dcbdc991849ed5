// A Connect worker on the official TypeScript SDK (`inngest/connect`): no HTTP server, it dials
// in to the Mainspring server's gateway. App id "ts-cw", so slugs are `ts-cw-<fn id>`.
//
// Environment: INNGEST_BASE_URL (the server), INNGEST_DEV=1, SIDE_EFFECT_LOG (JSON lines,
// one {kind: "STEP", step, run_id, attempt, instance, pid} per step body run), INSTANCE_ID.

import fs from "node:fs";
import { Inngest, NonRetriableError } from "inngest";
import { connect } from "inngest/connect";

const SIDE_EFFECT_LOG = process.env.SIDE_EFFECT_LOG;
const INSTANCE = process.argv[2] ?? process.env.INSTANCE_ID ?? `ts-worker-${process.pid}`;

function record(fields) {
  if (!SIDE_EFFECT_LOG) return;
  const entry = { kind: "STEP", pid: process.pid, instance: INSTANCE, ...fields };
  fs.appendFileSync(SIDE_EFFECT_LOG, `${JSON.stringify(entry)}\n`);
}

function traced(ctx, name, body) {
  return ctx.step.run(name, async () => {
    record({ step: name, run_id: ctx.runId, attempt: ctx.attempt });
    return await body();
  });
}

const inngest = new Inngest({ id: "ts-cw" });

const chain = inngest.createFunction(
  { id: "chain", triggers: [{ event: "ts-cw/chain" }] },
  async (ctx) => {
    const n = Number(ctx.event.data.n);
    const one = await traced(ctx, "one", async () => n + 1);
    const two = await traced(ctx, "two", async () => one * 10);
    return await traced(ctx, "three", async () => ({ total: two + 5 }));
  },
);

const flaky = inngest.createFunction(
  { id: "flaky", retries: 2, triggers: [{ event: "ts-cw/flaky" }] },
  async (ctx) => {
    const attempt = await traced(ctx, "wobbly", async () => {
      if (ctx.attempt < 1) throw new Error(`attempt ${ctx.attempt} fails`);
      return ctx.attempt;
    });
    return { attempt };
  },
);

const sleeper = inngest.createFunction(
  { id: "sleeper", triggers: [{ event: "ts-cw/sleeper" }] },
  async (ctx) => {
    await ctx.step.sleep("nap", "1s");
    return await traced(ctx, "after", async () => "woke");
  },
);

const fatal = inngest.createFunction(
  { id: "fatal", triggers: [{ event: "ts-cw/fatal" }] },
  async (ctx) => {
    await traced(ctx, "boom", async () => {
      throw new NonRetriableError("no retry");
    });
  },
);

// A step that takes `hold_ms`: a test kills the worker running it.
const slow = inngest.createFunction(
  { id: "slow", triggers: [{ event: "ts-cw/slow" }] },
  async (ctx) => {
    return await traced(ctx, "hold", async () => {
      await new Promise((resolve) => setTimeout(resolve, Number(ctx.event.data.hold_ms)));
      return INSTANCE;
    });
  },
);

await connect({
  apps: [{ client: inngest, functions: [chain, flaky, sleeper, fatal, slow] }],
  instanceId: INSTANCE,
  handleShutdownSignals: ["SIGTERM", "SIGINT"],
  // Node 20 has WebSocket behind --experimental-websocket, which worker threads do not get.
  isolateExecution: false,
});
