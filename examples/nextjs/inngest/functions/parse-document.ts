import { NonRetriableError } from "inngest";
import { inngest } from "../client";
import { config, fetchOk } from "@/lib/config";

type Extracted = { vendor: string; amount: number; currency: string };

// An LLM call is slow, rate-limited and flaky: as a step it is retried with backoff on its own
// (a 429/5xx throws), and its answer is checkpointed, so a later failure never pays for it twice.
export const parseDocument = inngest.createFunction(
  { id: "parse-document", triggers: [{ event: "document/uploaded" }], retries: 4 },
  async ({ event, step }) => {
    const text = String(event.data.text ?? "");
    const answer = await step.run("extract-with-llm", async () => {
      const response = await fetchOk(config.llmUrl, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({
          model: "fake-extractor",
          messages: [
            { role: "system", content: "Extract vendor, amount and currency as JSON." },
            { role: "user", content: text },
          ],
        }),
      });
      const body = (await response.json()) as { choices: { message: { content: string } }[] };
      return body.choices[0].message.content;
    });

    const fields = await step.run("validate", () => {
      const parsed = JSON.parse(answer) as Partial<Extracted>;
      if (typeof parsed.vendor !== "string" || typeof parsed.amount !== "number") {
        // Asking again gives the same answer: fail the run instead of retrying.
        throw new NonRetriableError(`the model's answer lacks vendor or amount: ${answer}`);
      }
      return parsed as Extracted;
    });
    return { documentId: event.data.documentId ?? null, ...fields };
  },
);
