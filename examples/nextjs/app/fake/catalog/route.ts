// A fake product catalog API: the list of item ids (CATALOG_SIZE of them, 5 by default).
export const dynamic = "force-dynamic";

export function GET(): Response {
  const size = Number.parseInt(process.env.CATALOG_SIZE ?? "5", 10);
  const items = Array.from({ length: size }, (_, k) => ({ id: `sku-${k + 1}` }));
  return Response.json({ items });
}
