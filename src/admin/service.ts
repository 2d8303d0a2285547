/**
 * Metrics in Prometheus text format for platform operators (`GET /metrics`). Gauges are read from D1 at scrape
 * time (cheap aggregate queries over indexed columns), so they are the same from every isolate.
 */
import { sql } from "drizzle-orm";
import type { Deps } from "../deps";

interface Gauge {
  name: string;
  help: string;
  query: string;
  /** Column holding a label value, if the query groups. */
  label?: string;
}

const GAUGES: Gauge[] = [
  { name: "pulse_users", help: "Registered users.", query: "SELECT COUNT(*) AS value FROM users" },
  { name: "pulse_organizations", help: "Live organizations.", query: "SELECT COUNT(*) AS value FROM organizations WHERE deleted_at IS NULL" },
  { name: "pulse_projects", help: "Live projects.", query: "SELECT COUNT(*) AS value FROM projects WHERE deleted_at IS NULL" },
  { name: "pulse_api_keys_active", help: "API keys neither revoked nor deleted.", query: "SELECT COUNT(*) AS value FROM api_keys WHERE revoked_at IS NULL" },
  {
    name: "pulse_webhook_messages",
    help: "Outbound webhook messages by delivery status.",
    query: "SELECT status AS label, COUNT(*) AS value FROM webhook_messages GROUP BY status",
    label: "status",
  },
  { name: "pulse_livekit_events", help: "LiveKit webhook events received.", query: "SELECT COUNT(*) AS value FROM livekit_events" },
  {
    name: "pulse_participant_sessions_open",
    help: "Participant sessions currently open.",
    query: "SELECT COUNT(*) AS value FROM participant_sessions WHERE left_at IS NULL",
  },
  {
    name: "pulse_egresses",
    help: "Egress records by LiveKit status.",
    query: "SELECT status AS label, COUNT(*) AS value FROM egresses GROUP BY status",
    label: "status",
  },
];

/** Prometheus label values escape backslash, quote and newline. */
function labelValue(v: string): string {
  return v.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
}

/** Every gauge, read now, in Prometheus text format. */
export async function renderMetrics(deps: Pick<Deps, "db">): Promise<string> {
  const { db } = deps;
  const results = await db.batch(GAUGES.map((g) => db.all<{ value: number; label?: string }>(sql.raw(g.query))) as never);
  const lines: string[] = [];
  GAUGES.forEach((g, i) => {
    lines.push(`# HELP ${g.name} ${g.help}`, `# TYPE ${g.name} gauge`);
    const rows = (results as { value: number; label?: string }[][])[i] ?? [];
    if (g.label) for (const r of rows) lines.push(`${g.name}{${g.label}="${labelValue(String(r.label))}"} ${r.value}`);
    else lines.push(`${g.name} ${rows[0]?.value ?? 0}`);
  });
  return lines.join("\n") + "\n";
}
