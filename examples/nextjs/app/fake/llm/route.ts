// A fake LLM with an OpenAI-style chat completions answer. Like a real one under load it fails:
// the first request for each prompt gets 503, the retry gets the answer.
import { createHash } from "node:crypto";

export const dynamic = "force-dynamic";

type ChatRequest = { messages?: { role: string; content: string }[] };

const seen = new Set<string>();

function extract(text: string): { vendor: string; amount: number; currency: string } {
  const vendor = /from ([A-Z][\w&.-]*(?: [A-Z][\w&.-]*)*)/.exec(text)?.[1] ?? "unknown";
  const money = /(\d+(?:\.\d+)?)\s*(EUR|USD|GBP)/.exec(text);
  return {
    vendor,
    amount: money ? Number(money[1]) : 0,
    currency: money ? money[2] : "USD",
  };
}

export async function POST(request: Request): Promise<Response> {
  const raw = await request.text();
  const key = createHash("sha256").update(raw).digest("hex");
  if (!seen.has(key)) {
    seen.add(key);
    return Response.json({ error: { message: "overloaded, try again" } }, { status: 503 });
  }
  const prompt = (JSON.parse(raw) as ChatRequest).messages?.findLast((m) => m.role === "user");
  const content = JSON.stringify(extract(prompt?.content ?? ""));
  return Response.json({
    id: `chatcmpl-${key.slice(0, 12)}`,
    object: "chat.completion",
    choices: [{ index: 0, message: { role: "assistant", content }, finish_reason: "stop" }],
  });
}
