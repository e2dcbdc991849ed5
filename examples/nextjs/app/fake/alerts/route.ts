// A fake alert webhook (Slack, PagerDuty…): POST records an alert, GET lists them.
export const dynamic = "force-dynamic";

const alerts: unknown[] = [];

export async function POST(request: Request): Promise<Response> {
  alerts.push(await request.json());
  return Response.json({ ok: true });
}

export function GET(): Response {
  return Response.json({ alerts });
}
