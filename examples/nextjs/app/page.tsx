const functions = [
  ["scrape-and-alert", "site/check.requested", "fetch a page, diff it with the last snapshot, alert"],
  ["catalog-sync", "cron (SYNC_CRON)", "list the catalog, fan out one event per item"],
  ["enrich-item", "catalog/item.updated", "one run per item, 4 at a time"],
  ["parse-document", "document/uploaded", "LLM extraction, retried when the model fails"],
];

export default function Home() {
  return (
    <main>
      <h1>Mainspring × Next.js</h1>
      <p>
        Functions served at <code>/api/inngest</code>; runs are on the Mainspring dashboard (
        <a href="http://127.0.0.1:8288/runs">127.0.0.1:8288/runs</a>).
      </p>
      <table>
        <tbody>
          {functions.map(([id, trigger, what]) => (
            <tr key={id}>
              <td>
                <code>{id}</code>
              </td>
              <td>{trigger}</td>
              <td>{what}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </main>
  );
}
