// Run metadata, userland traces and defers (issue 16), on a client of their own served at
// /api/inngest-obs: the metadata and extended-traces middlewares change what every run of a client
// sends (warnings as metadata, one span export per call), so the main client stays without them.
//
// App id "ts-obs" ("ts-obs-nocp" with CHECKPOINTING=0); slugs are `<app id>-<fn id>`. Records in
// the side-effect log: {kind: "DEFERRED", run_id, note, which, parent_run_id} per deferred run.
//
// Extended traces as the SDK documents them without @inngest/otel: the app registers its own
// OpenTelemetry provider (and an async context manager) first, and the middleware extends it
// (`behaviour: "extendProvider"`) with the processor that exports to /v1/traces/userland.

import { context, trace } from "@opentelemetry/api";
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks";
import { BasicTracerProvider } from "@opentelemetry/sdk-trace-base";
import { Inngest, NonRetriableError } from "inngest";
import { createDefer, extendedTracesMiddleware, metadataMiddleware } from "inngest/experimental";

context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
trace.setGlobalTracerProvider(new BasicTracerProvider());

export function observabilityClient({ checkpointing, isDev, record }) {
  const obs = new Inngest({
    id: checkpointing ? "ts-obs" : "ts-obs-nocp",
    isDev,
    ...(checkpointing ? {} : { checkpointing: false }),
    middleware: [metadataMiddleware(), extendedTracesMiddleware({ behaviour: "extendProvider" })],
  });

  // ---- metadata: by opcode inside steps, through POST /v1/runs/{id}/metadata outside them ----
  const withMetadata = obs.createFunction(
    { id: "metadata", triggers: [{ event: "ts/metadata" }] },
    async (ctx) => {
      await ctx.step.run("tagged", async () => {
        await obs.metadata.set({ stage: "tagged", n: 1 }); // the step's, on its op
        await obs.metadata.set({ stage: "tagged-again" }, "second");
        return "tagged";
      });
      await ctx.step.metadata("progress").set({ percent: 50 }, "progress"); // the run's
      await obs.metadata.set({ source: "outside-a-step" }, "outside"); // REST, the run's
      await obs.metadata.step("tagged").set({ via: "rest" }, "rest"); // REST, step "tagged"
      return await ctx.step.run("done", async () => "ok");
    },
  );

  // ---- userland spans: nested, under the step that made them ---------------------------------
  const traced = obs.createFunction(
    { id: "traced", triggers: [{ event: "ts/traced" }] },
    async (ctx) => {
      const total = await ctx.step.run("compute", async () =>
        ctx.tracer.startActiveSpan("compute.outer", async (outer) => {
          outer.setAttribute("app.items", 3);
          const inner = ctx.tracer.startSpan("compute.inner");
          inner.setAttribute("app.kind", "inner");
          inner.end();
          outer.end();
          return 6;
        }),
      );
      const after = await ctx.step.run("after", async () => {
        const span = ctx.tracer.startSpan("after.work");
        span.end();
        return total + 1;
      });
      return { total, after };
    },
  );

  // ---- defers: "keep" schedules its deferred run when the run ends, "drop" is aborted ---------
  const deferredNote = createDefer(obs, { id: "deferred-note" }, async ({ event, parents, runId }) => {
    record("DEFERRED", {
      run_id: runId,
      note: event.data.note,
      which: event.data.which,
      parent_run_id: parents?.[0]?.runId ?? null,
    });
    return { got: event.data };
  });

  const defers = obs.createFunction(
    { id: "defers", retries: 0, triggers: [{ event: "ts/defers" }] },
    async (ctx) => {
      const note = ctx.event.data.note;
      ctx.defer("keep", { function: deferredNote, data: { note, which: "keep" } });
      // The defer then rides with the function's own error ([DeferAdd, StepFailed]).
      if (ctx.event.data.failAtOnce) throw new NonRetriableError("failing with its defer");
      const dropped = ctx.defer("drop", { function: deferredNote, data: { note, which: "drop" } });
      await ctx.step.run("work", async () => "worked");
      dropped.abort();
      await ctx.step.run("finish", async () => "finished");
      if (ctx.event.data.fail) throw new NonRetriableError("failing after its defers");
      return { note };
    },
  );

  return { client: obs, functions: [withMetadata, traced, deferredNote, defers] };
}
