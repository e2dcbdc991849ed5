import { inngest } from "../client";
import { config, fetchOk } from "@/lib/config";

type ItemDetails = { id: string; name: string; priceCents: number };

// One run per item sent by catalog-sync; at most 4 at once so the catalog API is not flooded.
export const enrichItem = inngest.createFunction(
  {
    id: "enrich-item",
    triggers: [{ event: "catalog/item.updated" }],
    concurrency: { limit: 4 },
  },
  async ({ event, step }) => {
    const itemId = String(event.data.itemId);
    const details = await step.run("fetch-details", async () => {
      const url = `${config.catalogUrl}/${encodeURIComponent(itemId)}`;
      return (await (await fetchOk(url)).json()) as ItemDetails;
    });
    return await step.run("enrich", () => ({
      itemId,
      syncRunId: event.data.syncRunId ?? null,
      slug: details.name.toLowerCase().replace(/[^a-z0-9]+/g, "-"),
      priceBand: details.priceCents < 1000 ? "budget" : details.priceCents < 5000 ? "mid" : "premium",
    }));
  },
);
