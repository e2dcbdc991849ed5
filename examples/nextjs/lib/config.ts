// Where the functions reach the outside world. By default the app's own fake services under
// /fake/* (so the example runs with nothing else installed); point them at real ones in production.
const selfUrl = process.env.APP_URL ?? `http://127.0.0.1:${process.env.PORT ?? "3000"}`;

export const config = {
  siteUrl: process.env.SITE_URL ?? `${selfUrl}/fake/site`,
  catalogUrl: process.env.CATALOG_URL ?? `${selfUrl}/fake/catalog`,
  llmUrl: process.env.LLM_URL ?? `${selfUrl}/fake/llm`,
  alertWebhookUrl: process.env.ALERT_WEBHOOK_URL ?? `${selfUrl}/fake/alerts`,
  snapshotDir: process.env.SNAPSHOT_DIR ?? ".data/snapshots",
  syncCron: process.env.SYNC_CRON ?? "0 */6 * * *",
};

/** fetch() that turns a non-2xx answer into an error, so the step fails and is retried. */
export async function fetchOk(url: string, init?: RequestInit): Promise<Response> {
  const response = await fetch(url, { cache: "no-store", ...init });
  if (!response.ok) {
    throw new Error(`${init?.method ?? "GET"} ${url} answered ${response.status}`);
  }
  return response;
}
