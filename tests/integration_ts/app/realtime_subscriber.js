// Realtime subscriber for the TS SDK suite: subscribes to one channel through the SDK and prints
// one JSON line per message on stdout, so the Python test can read them in order.
//
// Environment:
//   INNGEST_BASE_URL   the Mainspring server to subscribe on (its token endpoint, too)
//   CHANNEL, TOPICS    the channel and its topics (comma-separated)
//   COUNT              exit 0 after this many messages
//   TRANSPORT          "ws" (default): the SDK's own `subscribe` (WebSocket /v1/realtime/connect);
//                      "sse": GET /v1/realtime/sse with the same token, read with fetch
//   TOKEN              a token to use instead of asking the server with getSubscriptionToken
//
// Output: {"ready": true} once subscribed, then {"kind", "topic", "data", "runId"} per message.
// Run with `node --experimental-websocket` on Node 20 (the SDK needs a global WebSocket).

import { Inngest } from "inngest";
import { getSubscriptionToken, subscribe } from "inngest/realtime";

const channel = process.env.CHANNEL;
const topics = (process.env.TOPICS ?? "tick").split(",");
const count = Number.parseInt(process.env.COUNT ?? "1", 10);
const transport = process.env.TRANSPORT ?? "ws";
const inngest = new Inngest({ id: "realtime-subscriber", isDev: process.env.INNGEST_DEV !== "0" });

let received = 0;
function emit(line) {
  process.stdout.write(`${JSON.stringify(line)}\n`);
}
function onMessage(message) {
  emit({ kind: message.kind, topic: message.topic, data: message.data, runId: message.runId });
  received += 1;
  if (received >= count) process.exit(0);
}

async function token() {
  if (process.env.TOKEN) return { channel, topics, key: process.env.TOKEN, apiBaseUrl: inngest.apiBaseUrl };
  return getSubscriptionToken(inngest, { channel, topics });
}

async function viaWebSocket() {
  await subscribe(await token(), onMessage);
  emit({ ready: true });
}

async function viaSse() {
  const { key } = await token();
  const url = new URL("/v1/realtime/sse", inngest.apiBaseUrl);
  url.searchParams.set("token", key);
  const res = await fetch(url);
  if (!res.ok) throw new Error(`SSE ${res.status}: ${await res.text()}`);
  emit({ ready: true });
  const decoder = new TextDecoder();
  let buffered = "";
  for await (const bytes of res.body) {
    buffered += decoder.decode(bytes, { stream: true });
    let end;
    while ((end = buffered.indexOf("\n\n")) >= 0) {
      const event = buffered.slice(0, end);
      buffered = buffered.slice(end + 2);
      const data = event.split("\n").find((line) => line.startsWith("data: "));
      if (!data) continue;
      const msg = JSON.parse(data.slice(6));
      onMessage({ kind: msg.kind, topic: msg.topic, data: msg.data, runId: msg.run_id });
    }
  }
  throw new Error("SSE stream ended early");
}

(transport === "sse" ? viaSse() : viaWebSocket()).catch((err) => {
  emit({ error: String(err?.stack ?? err) });
  process.exit(1);
});
