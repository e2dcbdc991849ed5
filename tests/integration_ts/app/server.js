// Test app for Mainspring's TypeScript SDK suite: the official `inngest` npm SDK (v4),
// served by a plain Node `http` server through `inngest/node`.
//
// Environment:
//   PORT               port to listen on (127.0.0.1), serve path /api/inngest
//   INNGEST_BASE_URL   the Mainspring server (API + event origin)
//   INNGEST_DEV=1      dev mode (no signatures)
//   SIDE_EFFECT_LOG    JSON-lines file every step body appends START/END records to
//   CHECKPOINTING      "0" → `checkpointing: false` on the client (app id "ts-app-nocp");
//                      anything else → the SDK default (async checkpointing on, app id "ts-app")
//
// Function slugs are `<app id>-<fn id>`. A second client (observability.js: run metadata, userland
// traces, defers) is served at /api/inngest-obs. Every step body is wrapped by `traced()`, which logs
// {kind: "START"|"END", run_id, step, attempt, t, mono, pid, ok?, error?}; every entry into a
// function handler logs {kind: "CALL", fn, run_id, attempt} (one per SDK request that ran it).

import fs from "node:fs";
import http from "node:http";
import {
  Inngest,
  NonRetriableError,
  realtime,
  referenceFunction,
  staticSchema,
  step,
} from "inngest";
import { getAsyncCtx } from "inngest/experimental";
import { stream } from "inngest/experimental/durable-endpoints";
import { endpointAdapter, serve, serveEndpoint } from "inngest/node";
import { gatewayFunctions } from "./gateway.js";
import { observabilityClient } from "./observability.js";

const PORT = Number.parseInt(process.env.PORT ?? "3000", 10);
const SIDE_EFFECT_LOG = process.env.SIDE_EFFECT_LOG;
const CHECKPOINTING = process.env.CHECKPOINTING !== "0";
const APP_ID = CHECKPOINTING ? "ts-app" : "ts-app-nocp";
const SERVE_PATH = "/api/inngest";

// ---- side-effect log ------------------------------------------------------------------

/** Append one JSON line with a single write on an O_APPEND descriptor. */
function record(kind, fields) {
  if (!SIDE_EFFECT_LOG) return;
  const entry = {
    kind,
    pid: process.pid,
    t: Date.now() / 1000, // wall clock, seconds
    mono: Number(process.hrtime.bigint()) / 1e9, // CLOCK_MONOTONIC, like Python's time.monotonic()
    ...fields,
  };
  fs.appendFileSync(SIDE_EFFECT_LOG, `${JSON.stringify(entry)}\n`);
}

/** `step.run(name, body)` with START/END records around the body. */
function traced(ctx, name, body, extra = {}) {
  return ctx.step.run(name, async () => {
    const common = { run_id: ctx.runId, step: name, attempt: ctx.attempt, ...extra };
    record("START", common);
    try {
      const result = await body();
      record("END", { ...common, ok: true });
      return result;
    } catch (err) {
      record("END", { ...common, ok: false, error: `${err?.name}: ${err?.message}` });
      throw err;
    }
  });
}

function called(fn, ctx) {
  record("CALL", { fn, run_id: ctx.runId, attempt: ctx.attempt });
}

// ---- client -----------------------------------------------------------------------------

const inngest = new Inngest({
  id: APP_ID,
  isDev: process.env.INNGEST_DEV === "1" || process.env.INNGEST_DEV === "true",
  ...(CHECKPOINTING ? {} : { checkpointing: false }),
});

// ---- 1. three-step chain -----------------------------------------------------------------
const chain = inngest.createFunction(
  { id: "chain", triggers: [{ event: "ts/chain" }] },
  async (ctx) => {
    called("chain", ctx);
    const n = Number(ctx.event.data.n);
    const first = await traced(ctx, "one", async () => n + 1);
    const second = await traced(ctx, "two", async () => first * 10);
    return await traced(ctx, "three", async () => ({ total: second + 5 }));
  },
);

// ---- 2. durable sleep --------------------------------------------------------------------
const sleeper = inngest.createFunction(
  { id: "sleeper", triggers: [{ event: "ts/sleep" }] },
  async (ctx) => {
    called("sleeper", ctx);
    await traced(ctx, "before", async () => "before");
    await ctx.step.sleep("nap", "2s");
    return await traced(ctx, "after", async () => "after");
  },
);

// ---- 3. waitForEvent with `if` and a timeout ------------------------------------------------
const waiter = inngest.createFunction(
  { id: "waiter", triggers: [{ event: "ts/wait" }] },
  async (ctx) => {
    called("waiter", ctx);
    const order = await traced(ctx, "before", async () => ctx.event.data.order);
    const reply = await ctx.step.waitForEvent("wait-reply", {
      event: "ts/wait.reply",
      if: "async.data.order == event.data.order",
      timeout: ctx.event.data.timeout ?? "10s",
    });
    const after = await traced(ctx, "after", async () => (reply ? reply.data.answer : null));
    return { order, reply: reply ? reply.data : null, after };
  },
);

// ---- 4. step.invoke of a child function -------------------------------------------------------
const child = inngest.createFunction(
  { id: "child", triggers: [{ event: "ts/child" }] },
  async (ctx) => {
    called("child", ctx);
    const x = Number(ctx.event.data.x);
    const doubled = await traced(ctx, "double", async () => x * 2);
    return { doubled, invoked_by: ctx.event.name };
  },
);

const invoker = inngest.createFunction(
  { id: "invoker", triggers: [{ event: "ts/invoke" }] },
  async (ctx) => {
    called("invoker", ctx);
    const x = await traced(ctx, "prep", async () => Number(ctx.event.data.x));
    const result = await ctx.step.invoke("call-child", {
      function: child,
      data: { x },
      timeout: "30s",
    });
    const after = await traced(ctx, "after", async () => result.doubled + 1);
    return { child: result, after };
  },
);

// The official SDK's example `step-invoke-not-found`: the invoke step fails with "could not
// find function" and the error is thrown inside the function, which then fails.
const invokeNotFound = inngest.createFunction(
  { id: "invoke-not-found", retries: 0, triggers: [{ event: "ts/invoke.not-found" }] },
  async (ctx) => {
    called("invoke-not-found", ctx);
    await ctx.step.invoke("invoke-non-existent-fn", {
      function: referenceFunction({ functionId: "non-existant-fn" }),
    });
  },
);

// A step checkpointed, then a step failing for good (retries: 0) and caught: the SDK answers the
// failure (StepFailed) after checkpointing "first", and the server calls again at once. The
// checkpoint may have reached another server process than the one driving the run.
const checkpointThenFail = inngest.createFunction(
  { id: "checkpoint-then-fail", retries: 0, triggers: [{ event: "ts/checkpoint-then-fail" }] },
  async (ctx) => {
    called("checkpoint-then-fail", ctx);
    const first = await traced(ctx, "first", async () => 1);
    let caught = null;
    try {
      await traced(ctx, "doomed", async () => {
        throw new Error("doomed fails", { cause: new Error("the root cause") });
      });
    } catch (err) {
      caught = err?.message ?? String(err);
    }
    const last = await traced(ctx, "last", async () => first + 1);
    return { first, last, caught };
  },
);

// ---- 5. parallel steps with Promise.all ---------------------------------------------------
const parallel = inngest.createFunction(
  { id: "parallel", triggers: [{ event: "ts/parallel" }] },
  async (ctx) => {
    called("parallel", ctx);
    const legs = await Promise.all([
      traced(ctx, "p1", async () => 1),
      traced(ctx, "p2", async () => 2),
      traced(ctx, "p3", async () => 3),
    ]);
    const after = await traced(ctx, "after", async () => legs.reduce((a, b) => a + b, 0));
    return { parallel: legs, after };
  },
);

// ---- 6. function-level failure with an onFailure handler ----------------------------------
const fails = inngest.createFunction(
  {
    id: "fails",
    triggers: [{ event: "ts/fails" }],
    retries: 0,
    onFailure: async ({ event, error, runId, attempt }) => {
      record("ON_FAILURE", {
        run_id: runId,
        attempt,
        event_name: event.name,
        data: event.data,
        error_message: error?.message ?? null,
      });
    },
  },
  async (ctx) => {
    called("fails", ctx);
    await traced(ctx, "ok-step", async () => "fine");
    throw new Error("kaboom");
  },
);

// ---- 7. NonRetriableError inside a step ----------------------------------------------------
const fatal = inngest.createFunction(
  { id: "fatal", triggers: [{ event: "ts/fatal" }], retries: 3 },
  async (ctx) => {
    called("fatal", ctx);
    return await traced(ctx, "give-up", async () => {
      throw new NonRetriableError("fatal: do not retry");
    });
  },
);

// ---- 8. a step failing on attempts 0 and 1, then succeeding (after a step that succeeded) --------------------------------
const flaky = inngest.createFunction(
  { id: "flaky", triggers: [{ event: "ts/flaky" }], retries: 2 },
  async (ctx) => {
    called("flaky", ctx);
    await traced(ctx, "warmup", async () => "warm");
    const succeededOn = await traced(ctx, "wobbly", async () => {
      if (ctx.attempt < 2) throw new Error(`transient failure on attempt ${ctx.attempt}`);
      return ctx.attempt;
    });
    const nextAttempt = await traced(ctx, "steady", async () => ctx.attempt);
    return { succeeded_on: succeededOn, next_attempt: nextAttempt };
  },
);

// ---- 9. cancellable (cancelOn with `if`), sleeps between two steps --------------------------
const cancellable = inngest.createFunction(
  {
    id: "cancellable",
    triggers: [{ event: "ts/cancellable" }],
    cancelOn: [{ event: "ts/cancel", if: "async.data.id == event.data.id" }],
  },
  async (ctx) => {
    called("cancellable", ctx);
    await traced(ctx, "before", async () => "before");
    await ctx.step.sleep("nap", ctx.event.data.sleep ?? "3s");
    return await traced(ctx, "after", async () => "after");
  },
);

// ---- 10. a function-level error after a (checkpointed) step: the retry must not re-run it ------
const recovers = inngest.createFunction(
  { id: "recovers", triggers: [{ event: "ts/recovers" }], retries: 1 },
  async (ctx) => {
    called("recovers", ctx);
    const a = await traced(ctx, "a", async () => "a-done");
    if (ctx.attempt === 0) throw new Error("transient function-level failure");
    return { a, attempt: ctx.attempt };
  },
);

// ---- 11. a function that returns nothing (RunComplete / 200 with null) ---------------------------
const returnsNothing = inngest.createFunction(
  { id: "returns-nothing", triggers: [{ event: "ts/void" }] },
  async (ctx) => {
    called("returns-nothing", ctx);
    await traced(ctx, "only", async () => undefined);
  },
);

// ---- 12. fan-out with step.sendEvent: each child event sent exactly once --------------------------
const fanout = inngest.createFunction(
  { id: "fanout", triggers: [{ event: "ts/fanout" }] },
  async (ctx) => {
    called("fanout", ctx);
    const batch = await traced(ctx, "prep", async () => String(ctx.event.data.batch));
    const sent = await ctx.step.sendEvent(
      "fan",
      [0, 1, 2].map((i) => ({ name: "ts/fanout.child", data: { batch, i } })),
    );
    return { ids: sent.ids };
  },
);

const fanoutChild = inngest.createFunction(
  { id: "fanout-child", triggers: [{ event: "ts/fanout.child" }] },
  async (ctx) => {
    called("fanout-child", ctx);
    const { batch, i } = ctx.event.data;
    return await traced(ctx, "work", async () => ({ batch, i, doubled: i * 2 }), { batch, i });
  },
);

// ---- 13. cron (standard 5-field expression: every minute) -----------------------------------
const cronTick = inngest.createFunction(
  { id: "cron-tick", triggers: [{ cron: "* * * * *" }] },
  async (ctx) => {
    called("cron-tick", ctx);
    return await traced(ctx, "tick", async () => ({
      event_name: ctx.event.name,
      cron: ctx.event.data?.cron ?? null,
    }));
  },
);

// ---- 14. signals: waitForSignal (timeout, onConflict from the event) and step.sendSignal ----------
const signalWaiter = inngest.createFunction(
  { id: "signal-waiter", retries: 0, triggers: [{ event: "ts/signal.wait" }] },
  async (ctx) => {
    called("signal-waiter", ctx);
    const { signal, timeout, conflict } = ctx.event.data;
    const before = await traced(ctx, "before", async () => signal);
    const got = await ctx.step.waitForSignal("wait-signal", {
      signal,
      timeout: timeout ?? "20s",
      onConflict: conflict ?? "fail",
    });
    const after = await traced(ctx, "after", async () => (got ? got.data : null));
    return { signal: before, got, after };
  },
);

const signalSender = inngest.createFunction(
  { id: "signal-sender", triggers: [{ event: "ts/signal.send" }] },
  async (ctx) => {
    called("signal-sender", ctx);
    const { signal, data } = ctx.event.data;
    const sent = await ctx.step.sendSignal("send-signal", { signal, data });
    return { sent };
  },
);

// ---- 15. realtime: publish `count` messages to the channel named by the event ------------------
// `via: "step"` uses step.realtime.publish (a planned step each), `via: "client"` the client's
// publish inside one step.run; the subscriber (realtime_subscriber.js) expects data {i, of}.
const progress = realtime.channel({
  name: (id) => `progress:${id}`,
  topics: { tick: { schema: staticSchema() }, other: { schema: staticSchema() } },
});

const realtimePublisher = inngest.createFunction(
  { id: "realtime-publisher", triggers: [{ event: "ts/realtime.publish" }] },
  async (ctx) => {
    called("realtime-publisher", ctx);
    const { channel, count, via, topic } = ctx.event.data;
    const ch = progress(channel);
    const ref = ch[topic ?? "tick"];
    if (via === "client") {
      await ctx.step.run("publish-all", async () => {
        for (let i = 0; i < count; i++) await inngest.realtime.publish(ref, { i, of: count });
      });
    } else {
      for (let i = 0; i < count; i++) {
        await ctx.step.realtime.publish(`tick-${i}`, ref, { i, of: count });
      }
    }
    return { published: count };
  },
);

export const functions = [
  chain,
  sleeper,
  waiter,
  child,
  invoker,
  invokeNotFound,
  checkpointThenFail,
  parallel,
  fails,
  fatal,
  flaky,
  cancellable,
  recovers,
  returnsNothing,
  fanout,
  fanoutChild,
  cronTick,
  ...gatewayFunctions(inngest, { traced, called }),
  signalWaiter,
  signalSender,
  realtimePublisher,
];

// ---- durable endpoints (`inngest.endpoint`: steps inside the caller's own request) -------------
// Served at /api/endpoint/<name>; each answers {run_id, ...} so tests find the run. The run id
// and attempt come from the SDK's async context (the handler gets only the Request).

const endpoints = new Inngest({
  id: "ts-endpoints",
  isDev: process.env.INNGEST_DEV === "1" || process.env.INNGEST_DEV === "true",
  endpointAdapter,
});

async function execution() {
  const ctx = (await getAsyncCtx())?.execution?.ctx;
  return { runId: ctx?.runId, attempt: ctx?.attempt ?? 0 };
}

/** A step whose body logs START/END like `traced`, for endpoints (no ctx argument). */
async function endpointStep(name, body) {
  const { runId } = await execution();
  return step.run(name, async () => {
    const common = { run_id: runId, step: name, endpoint: true };
    record("START", common);
    try {
      const result = await body();
      record("END", { ...common, ok: true });
      return result;
    } catch (err) {
      record("END", { ...common, ok: false, error: `${err?.name}: ${err?.message}` });
      throw err;
    }
  });
}

const failuresLeft = new Map(); // run id -> failures still to throw (the app outlives the calls)

const endpointHandlers = {
  // Three steps in the caller's request; the response is the handler's return value.
  chain: endpoints.endpoint(async (req) => {
    const n = Number(new URL(req.url).searchParams.get("n") ?? "0");
    const first = await endpointStep("one", async () => n + 1);
    const second = await endpointStep("two", async () => first * 10);
    const total = await endpointStep("three", async () => second + 5);
    return { run_id: (await execution()).runId, total };
  }),
  // "wobbly" fails the first `fail` times: the SDK hands the run over and redirects its caller.
  flaky: endpoints.endpoint(async (req) => {
    const fail = Number(new URL(req.url).searchParams.get("fail") ?? "1");
    const { runId } = await execution();
    await endpointStep("warmup", async () => "warm");
    const tries = await endpointStep("wobbly", async () => {
      const left = failuresLeft.has(runId) ? failuresLeft.get(runId) : fail;
      failuresLeft.set(runId, left - 1);
      if (left > 0) throw new Error(`transient failure (${left} left)`);
      return fail + 1;
    });
    return { run_id: runId, tries };
  }),
  // A durable sleep between two steps: the run goes on asynchronously after the sleep.
  nap: endpoints.endpoint(async () => {
    const before = await endpointStep("before", async () => "before");
    await step.sleep("nap", "1s");
    const after = await endpointStep("after", async () => "after");
    return { run_id: (await execution()).runId, before, after };
  }),
  // Two steps in parallel (planned, then run one by one by the server), then a third.
  pair: endpoints.endpoint(async () => {
    const [a, b] = await Promise.all([
      endpointStep("left", async () => "L"),
      endpointStep("right", async () => "R"),
    ]);
    const joined = await endpointStep("join", async () => a + b);
    return { run_id: (await execution()).runId, joined };
  }),
  // The handler itself throws once, after a step: the whole call is retried, the step is not.
  recovers: endpoints.endpoint(async () => {
    const { runId } = await execution();
    const value = await endpointStep("kept", async () => 7);
    if (!failuresLeft.has(runId)) {
      failuresLeft.set(runId, 0);
      throw new Error("handler failed once");
    }
    return { run_id: runId, value };
  }),
  // "gate" waits until the file named by ?gate= exists (a test holds the run there).
  gated: endpoints.endpoint(async (req) => {
    const gate = new URL(req.url).searchParams.get("gate");
    const first = await endpointStep("first", async () => 1);
    const held = await endpointStep("gate", async () => {
      while (!fs.existsSync(gate)) await new Promise((r) => setTimeout(r, 50));
      return 2;
    });
    const last = await endpointStep("last", async () => first + held);
    return { run_id: (await execution()).runId, last };
  }),
  // Streams to a caller that accepts SSE: "one", "two" in the request; the sleep hands the run to
  // the server, which replays the request: "three", then (once ?gate= exists) "four" reach the
  // caller through the server (`/v1/realtime/publish/tee` → `/v1/realtime/sse`).
  streams: endpoints.endpoint(async (req) => {
    const gate = new URL(req.url).searchParams.get("gate");
    const first = await endpointStep("first", async () => {
      stream.push("one");
      stream.push("two");
      return 1;
    });
    await step.sleep("nap", "1s");
    const second = await endpointStep("second", async () => {
      stream.push("three");
      while (gate && !fs.existsSync(gate)) await new Promise((r) => setTimeout(r, 50));
      stream.push("four");
      return 2;
    });
    return { run_id: (await execution()).runId, total: first + second };
  }),
};
const endpointListeners = Object.fromEntries(
  Object.entries(endpointHandlers).map(([name, h]) => [`/api/endpoint/${name}`, serveEndpoint(h)]),
);

// ---- HTTP server -----------------------------------------------------------------------------

const handler = serve({ client: inngest, functions });

// Run metadata, userland traces and defers: a second client, served at its own path.
const OBS_SERVE_PATH = "/api/inngest-obs";
const obs = observabilityClient({
  checkpointing: CHECKPOINTING,
  isDev: process.env.INNGEST_DEV === "1" || process.env.INNGEST_DEV === "true",
  record,
});
const obsHandler = serve({ client: obs.client, functions: obs.functions, servePath: OBS_SERVE_PATH });

const server = http.createServer((req, res) => {
  const path = (req.url ?? "/").split("?")[0];
  if (path === SERVE_PATH) {
    handler(req, res);
    return;
  }
  if (endpointListeners[path]) {
    endpointListeners[path](req, res);
    return;
  }
  if (path === OBS_SERVE_PATH) {
    obsHandler(req, res);
    return;
  }
  res.writeHead(404, { "Content-Type": "application/json" });
  res.end(JSON.stringify({ error: "not found", path }));
});

server.keepAliveTimeout = 65_000;
server.listen(PORT, "127.0.0.1", () => {
  console.log(`${APP_ID} listening on http://127.0.0.1:${PORT}${SERVE_PATH} (checkpointing=${CHECKPOINTING})`);
});

function shutdown(signal) {
  console.log(`${APP_ID}: ${signal}, closing`);
  server.close(() => process.exit(0));
  server.closeAllConnections?.();
  setTimeout(() => process.exit(0), 2000).unref();
}
process.on("SIGTERM", () => shutdown("SIGTERM"));
process.on("SIGINT", () => shutdown("SIGINT"));
