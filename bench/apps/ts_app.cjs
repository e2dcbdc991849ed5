// bench_core's 3-step function on the official TypeScript SDK (the `inngest` npm package the
// TS integration suite installs in tests/integration_ts/app), served by a plain Node http server.
//   node bench/apps/ts_app.cjs --port P --app-id ID [--no-checkpointing]
// Environment: INNGEST_DEV=1, INNGEST_BASE_URL=<server>.
// With checkpointing (the SDK's default) one request runs all three steps, checkpointing each to
// the server, so "final" is stamped when the handler returns; without it, like sdk_app.py, at the
// arrival of the request that finds every step memoized.
"use strict";

const http = require("node:http");
const path = require("node:path");
const { createRequire } = require("node:module");
const { RunRecorder } = require("./recorder.cjs");

const tsApp = path.resolve(__dirname, "../../tests/integration_ts/app/package.json");
const fromTsApp = createRequire(tsApp);
const { Inngest } = fromTsApp("inngest");
const { serve } = fromTsApp("inngest/node");

const argv = process.argv.slice(2);
const opt = (name, fallback) => {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : fallback;
};
const PORT = Number(opt("--port", "3000"));
const APP_ID = opt("--app-id", "bench-ts");
const CHECKPOINTING = !argv.includes("--no-checkpointing");

const recorder = new RunRecorder();
const inngest = new Inngest({
  id: APP_ID,
  isDev: true,
  ...(CHECKPOINTING ? {} : { checkpointing: false }),
});

const chain = inngest.createFunction(
  { id: "chain", triggers: [{ event: "bench/chain" }] },
  async ({ event, step, runId }) => {
    const arrived = Date.now() / 1000;
    const rec = recorder.call(runId, arrived, event.data);
    const a = await step.run("one", async () => 2);
    const b = await step.run("two", async () => a * 10);
    const c = await step.run("three", async () => ({ total: a + b + 3 }));
    recorder.final(rec, CHECKPOINTING ? Date.now() / 1000 : arrived);
    return c;
  },
);

const handler = serve({ client: inngest, functions: [chain] });
const server = http.createServer((req, res) => {
  if ((req.url || "").startsWith("/bench/")) {
    recorder.serveBench(req, res);
    return;
  }
  handler(req, res);
});
server.keepAliveTimeout = 65_000;
server.listen(PORT, "127.0.0.1");
process.on("SIGTERM", () => {
  server.close(() => process.exit(0));
  server.closeAllConnections();
  setTimeout(() => process.exit(0), 2000).unref();
});
