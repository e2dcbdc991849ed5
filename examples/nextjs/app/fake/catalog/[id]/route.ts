// A fake product catalog API: one item's details, made up from its id.
export const dynamic = "force-dynamic";

export async function GET(
  _request: Request,
  { params }: { params: Promise<{ id: string }> },
): Promise<Response> {
  const { id } = await params;
  const n = Number.parseInt(id.replace(/\D/g, ""), 10) || 1;
  return Response.json({ id, name: `Widget ${n} Deluxe`, priceCents: n * 1500 });
}
