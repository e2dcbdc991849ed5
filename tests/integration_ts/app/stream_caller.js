// Calls a durable endpoint that streams, as a browser or service would with the TypeScript SDK's
// own client helper (`fetchWithStream` of `inngest/experimental/durable-endpoints/client`), and
// prints one JSON line per thing it hears, so the Python test can follow the stream live.
//
// Environment:
//   URL         the endpoint to call
//   SSE_ORIGIN  optional: subscribe to the run's stream on this server instead of the one the SDK
//               named (the SDK sends the caller to its own API origin), to cross processes
//
// Output: {event: "subscribe", url} when the helper follows the SDK to the server's stream,
// {event: "metadata", runId}, {event: "data", data, step}, {event: "commit" | "rollback", step},
// and at the end {event: "response", status, body} (or {error}); each with `t` (ms since start).

import { fetchWithStream } from "inngest/experimental/durable-endpoints/client";

const started = Date.now();
function emit(line) {
  process.stdout.write(`${JSON.stringify({ ...line, t: Date.now() - started })}\n`);
}

async function follow(input, init) {
  let url = typeof input === "string" ? input : input.url;
  if (url.includes("/v1/realtime/sse")) {
    if (process.env.SSE_ORIGIN) {
      const moved = new URL(url);
      const origin = new URL(process.env.SSE_ORIGIN);
      moved.protocol = origin.protocol;
      moved.host = origin.host;
      url = moved.toString();
    }
    emit({ event: "subscribe", url });
  }
  return fetch(url, init);
}

async function main() {
  const response = await fetchWithStream(process.env.URL, {
    fetch: follow,
    onMetadata: ({ runId }) => emit({ event: "metadata", runId }),
    onData: ({ data, hashedStepId }) => emit({ event: "data", data, step: hashedStepId }),
    onCommit: ({ hashedStepId }) => emit({ event: "commit", step: hashedStepId }),
    onRollback: ({ hashedStepId }) => emit({ event: "rollback", step: hashedStepId }),
  });
  emit({ event: "response", status: response.status, body: await response.text() });
}

main().then(
  () => process.exit(0),
  (err) => {
    emit({ error: String(err?.stack ?? err) });
    process.exit(1);
  },
);
