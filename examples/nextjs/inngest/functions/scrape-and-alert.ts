import { inngest } from "../client";
import { config, fetchOk } from "@/lib/config";
import { diffLines, textLines } from "@/lib/diff";
import { hashOf, loadSnapshot, saveSnapshot } from "@/lib/snapshots";

// Fetch a page, compare it with the last snapshot, alert when it changed. Each step's result is
// checkpointed: a retry of "send-alert" does not fetch the page again.
export const scrapeAndAlert = inngest.createFunction(
  {
    id: "scrape-and-alert",
    triggers: [{ event: "site/check.requested" }],
    // One check per URL at a time, so two checks never race on its snapshot.
    concurrency: { limit: 1, key: "event.data.url" },
  },
  async ({ event, step }) => {
    const url = String(event.data?.url ?? config.siteUrl);

    const page = await step.run("fetch-page", async () => {
      const lines = textLines(await (await fetchOk(url)).text());
      return { lines, hash: hashOf(lines) };
    });
    const previous = await step.run("load-snapshot", () => loadSnapshot(url));
    if (previous?.hash === page.hash) {
      return { url, status: "unchanged" };
    }

    await step.run("save-snapshot", () =>
      saveSnapshot({ url, ...page, takenAt: new Date().toISOString() }),
    );
    if (previous === null) {
      return { url, status: "first-snapshot", lines: page.lines.length };
    }

    const diff = diffLines(previous.lines, page.lines);
    await step.run("send-alert", async () => {
      await fetchOk(config.alertWebhookUrl, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ url, ...diff }),
      });
    });
    return { url, status: "changed", ...diff };
  },
);
