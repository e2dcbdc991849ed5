// Server-side requests: `step.fetch` (opcode Gateway) and `step.ai.infer` (opcode AIGateway),
// with `step.ai.wrap`. The URLs come from the event (a fake service the test starts); the
// credentials are constants here, never in an event, so a test can check that they appear
// nowhere Mainspring keeps or shows anything.

export const FETCH_TOKEN = "tok-mainspring-fetch-0123456789";
export const AI_KEY = "sk-mainspring-ai-0123456789abcdef";

export function gatewayFunctions(inngest, { traced, called }) {
  // A step, then step.fetch (in checkpointing mode the SDK checkpoints the first step before
  // answering the Gateway op), then a step using the response.
  const fetcher = inngest.createFunction(
    { id: "fetcher", triggers: [{ event: "ts/fetch" }] },
    async (ctx) => {
      called("fetcher", ctx);
      const n = await traced(ctx, "before", async () => Number(ctx.event.data.n ?? 1));
      let res;
      try {
        res = await ctx.step.fetch(ctx.event.data.url, {
          method: "POST",
          headers: { "content-type": "application/json", authorization: `Bearer ${FETCH_TOKEN}` },
          body: JSON.stringify({ n }),
        });
      } catch (err) {
        return { error: `${err?.name}: ${err?.message}` };
      }
      const text = await res.text();
      const after = await traced(ctx, "after", async () => text.length);
      return { status: res.status, body: text, fake: res.headers.get("x-fake"), after };
    },
  );

  // Two requests at once: the SDK answers both Gateway ops in one reply.
  const fetchPair = inngest.createFunction(
    { id: "fetch-pair", triggers: [{ event: "ts/fetch.pair" }] },
    async (ctx) => {
      called("fetch-pair", ctx);
      const responses = await Promise.all(ctx.event.data.urls.map((url) => ctx.step.fetch(url)));
      return await Promise.all(responses.map(async (res) => `${res.status} ${await res.text()}`));
    },
  );

  const ai = inngest.createFunction(
    { id: "ai", triggers: [{ event: "ts/ai" }] },
    async (ctx) => {
      called("ai", ctx);
      const { provider, base_url: baseUrl } = ctx.event.data;
      const anthropic = provider === "anthropic";
      const model = anthropic
        ? ctx.step.ai.models.anthropic({ model: "claude-test", apiKey: AI_KEY, baseUrl })
        : ctx.step.ai.models.openai({ model: "gpt-test", apiKey: AI_KEY, baseUrl });
      const messages = [{ role: "user", content: "Say hi" }];
      const answer = await ctx.step.ai.infer("infer", {
        model,
        body: anthropic ? { messages, max_tokens: 64 } : { messages },
      });
      const text = anthropic ? answer.content[0].text : answer.choices[0].message.content;
      const wrapped = await ctx.step.ai.wrap("wrap", async (said) => ({ echoed: said }), text);
      return { text, wrapped };
    },
  );

  return [fetcher, fetchPair, ai];
}
