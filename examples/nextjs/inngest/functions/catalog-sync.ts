import { inngest } from "../client";
import { config, fetchOk } from "@/lib/config";

type CatalogItem = { id: string };

// A scheduled sync that fans out: one `catalog/item.updated` event per item, each starting its
// own enrichment run (retried, throttled and observed on its own).
export const catalogSync = inngest.createFunction(
  { id: "catalog-sync", triggers: [{ cron: config.syncCron }] },
  async ({ step, runId }) => {
    const items = await step.run("list-items", async () => {
      const body = (await (await fetchOk(config.catalogUrl)).json()) as { items: CatalogItem[] };
      return body.items.map((item) => item.id);
    });
    if (items.length === 0) return { items: 0 };

    const { ids } = await step.sendEvent(
      "fan-out",
      items.map((itemId) => ({ name: "catalog/item.updated", data: { itemId, syncRunId: runId } })),
    );
    return { items: items.length, events: ids.length };
  },
);
