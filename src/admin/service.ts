/**
 * Metrics in Prometheus text format for platform operators (`GET /metrics`). A scrape never counts
 * a table: the counts are kept by triggers in `metric_counts` (one small read), open participant
 * sessions are counted on the index of open sessions (as many as are open, not every session),
 * LiveKit events given up on on their partial index (as many as were given up on), and the oldest
 * event still in line is one seek at the start of the unprocessed events' partial index.
 * They are read from D1, so they are the same from every isolate.
 */
import { sql } from "drizzle-orm";
import type { Deps } from "../deps";
import { abandonedCountQuery } from "../inbound/abandoned";
import { oldestUnprocessedQuery } from "../inbound/service";
import { nowMs } from "../lib/clock";

interface Gauge {
  name: string;
  help: string;
  /** Label name, for gauges kept per label value. */
  label?: string;
}

/** Gauges kept in `metric_counts` by triggers (see the migration that creates them). */
const COUNTED: Gauge[] = [
  { name: "pulse_users", help: "Registered users." },
  { name: "pulse_organizations", help: "Live organizations." },
  { name: "pulse_projects", help: "Live projects." },
  { name: "pulse_api_keys_active", help: "API keys neither revoked nor deleted." },
  { name: "pulse_webhook_messages", help: "Outbound webhook messages by delivery status.", label: "status" },
  { name: "pulse_livekit_events", help: "LiveKit webhook events stored." },
  { name: "pulse_egresses", help: "Egress records by LiveKit status.", label: "status" },
];

/** Prometheus label values escape backslash, quote and newline. */
function labelValue(v: string): string {
  return v.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
}

/** A gauge's HELP and TYPE lines, in Prometheus text format. */
function gaugeHeader(name: string, help: string): string[] {
  return [`# HELP ${name} ${help}`, `# TYPE ${name} gauge`];
}

/** A gauge without labels. */
function gauge(name: string, help: string, value: number | string): string[] {
  return [...gaugeHeader(name, help), `${name} ${value}`];
}

/** Every gauge, read now, in Prometheus text format. */
export async function renderMetrics(deps: Pick<Deps, "db">): Promise<string> {
  const { db } = deps;
  const [counts, open, abandoned, [oldest]] = await db.batch([
    db.all<{ name: string; label: string; value: number }>(sql`SELECT name, label, value FROM metric_counts`),
    // A range of the open-sessions index: as many rows as sessions are open, not every session.
    db.all<{ value: number }>(sql`SELECT COUNT(*) AS value FROM participant_sessions WHERE left_at IS NULL`),
    abandonedCountQuery(db),
    oldestUnprocessedQuery(db),
  ]);
  const lagMs = oldest?.receivedAt == null ? 0 : Math.max(0, nowMs() - oldest.receivedAt);
  const lines: string[] = [];
  for (const g of COUNTED) {
    lines.push(...gaugeHeader(g.name, g.help));
    const rows = counts.filter((r) => r.name === g.name);
    if (g.label) for (const r of rows) lines.push(`${g.name}{${g.label}="${labelValue(r.label)}"} ${r.value}`);
    else lines.push(`${g.name} ${rows[0]?.value ?? 0}`);
  }
  lines.push(...gauge("pulse_participant_sessions_open", "Participant sessions currently open.", open[0]?.value ?? 0));
  lines.push(...gauge("pulse_livekit_events_abandoned", "LiveKit events the safety net gave up on, still unprocessed (GET /v1/admin/livekit-events/abandoned).", abandoned[0]?.value ?? 0));
  lines.push(
    ...gauge(
      "pulse_livekit_events_unprocessed_oldest_seconds",
      "Age of the oldest LiveKit event stored and not yet processed (those given up on aside); 0 when none is waiting.",
      (lagMs / 1000).toFixed(3),
    ),
  );
  return lines.join("\n") + "\n";
}
