// A fake web page to watch, so the example needs no internet. PUT {"lines": [...]} changes it.
export const dynamic = "force-dynamic";

let lines = ["Acme pricing", "Starter: $9 / month", "Team: $49 / month"];

export function GET(): Response {
  const body = lines.map((line) => `<p>${line}</p>`).join("\n");
  return new Response(`<!doctype html><html><body>${body}</body></html>`, {
    headers: { "content-type": "text/html; charset=utf-8" },
  });
}

export async function PUT(request: Request): Promise<Response> {
  const body = (await request.json()) as { lines?: unknown };
  if (!Array.isArray(body.lines) || !body.lines.every((line) => typeof line === "string")) {
    return Response.json({ error: "lines must be an array of strings" }, { status: 400 });
  }
  lines = body.lines;
  return Response.json({ lines });
}
