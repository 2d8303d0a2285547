/**
 * Every list, filter and job query seeks an index: no statement a request or a cron job sends walks
 * a whole table (another tenant's rows included), and keyset pages seek straight to the cursor.
 * The tables hold another tenant's rows (bulk SQL) and are ANALYZEd, so the planner decides with
 * statistics as it does in production; the sizes that prove timing live in `npm run bench:data`.
 */
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { encodeCursor } from "../../src/lib/pagination";
import { createTenant } from "../support/factories";
import { fullScans, planCron, planRequest, statementOn, type PlannedStatement } from "../support/query-plans";
import { createEndpoint } from "../support/webhook-receiver";

const N = 1500;
const HOUR = 3600_000;
const now = Date.now();
const series = `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ${N})`;

/** Another tenant with N rows in every table a list or a job reads. */
async function seedOtherTenant() {
  const other = await createTenant();
  const o = other.org.id;
  const p = other.project.id;
  const whk = `whk_other${crypto.randomUUID().slice(0, 6)}`;
  // ?1 org, ?2 project, ?3 now, ?4 endpoint (numbered parameters may be left unused).
  const q = (sql: string) => {
    const used = Math.max(...[...sql.matchAll(/\?(\d)/g)].map((m) => Number(m[1])));
    return env.DB.prepare(sql).bind(...[o, p, now, whk].slice(0, used));
  };
  await env.DB.batch([
    q(`INSERT INTO users (id, email, email_normalized, name, password_hash, created_at, updated_at) ${series} SELECT 'usr_o' || i, 'o' || i || '@x.test', 'o' || i || '@x.test', 'O', 'x', ?3, ?3 FROM n`),
    q(`INSERT INTO sessions (id, user_id, token_hash, created_at, expires_at) ${series} SELECT 'ses_o' || i, 'usr_o' || i, 'sh' || i || ?4, ?3, ?3 + 86400000 FROM n`),
    q(`INSERT INTO organizations (id, name, created_at, updated_at) ${series} SELECT 'org_o' || i || ?4, 'O', ?3 - i, ?3 FROM n`),
    q(`INSERT INTO memberships (org_id, user_id, role, created_at, updated_at) ${series} SELECT ?1, 'usr_o' || i, 'member', ?3 - i, ?3 FROM n`),
    q(`INSERT INTO projects (id, org_id, name, created_at, updated_at) ${series} SELECT 'prj_o' || i, ?1, 'P', ?3 - i, ?3 FROM n`),
    q(`UPDATE projects SET deleted_at = ?3 WHERE id IN ('prj_o1', 'prj_o2')`),
    q(`INSERT INTO audit_logs (id, org_id, project_id, actor_type, actor_id, action, resource_type, resource_id, metadata, created_at) ${series}
       SELECT 'aud_o' || i, ?1, ?2, 'user', 'usr_o' || (i % 7), 'thing.' || (i % 5), 'type' || (i % 25), 'thg_' || (i % 500), '{}', ?3 - i * 1000 FROM n`),
    q(`INSERT INTO api_keys (id, project_id, org_id, name, prefix, key_hash, scopes, created_at) ${series} SELECT 'key_o' || i, ?2, ?1, 'k', 'p', 'h' || i || ?4, '[]', ?3 - i FROM n`),
    q(`INSERT INTO invitations (id, org_id, email, email_normalized, role, token_hash, created_at, expires_at) ${series}
       SELECT 'inv_o' || i, ?1, 'i' || i || '@x.test', 'i' || i || '@x.test', 'member', 'th' || i || ?4, ?3 - i, ?3 + 86400000 FROM n`),
    q(`INSERT INTO webhook_endpoints (id, project_id, org_id, url, enabled, secret_encrypted, created_at, updated_at) VALUES (?4, ?2, ?1, 'https://example.com/h', 1, 'v1.x.y', ?3, ?3)`),
    q(`INSERT INTO webhook_messages (id, project_id, endpoint_id, event_type, payload, status, attempts, source_id, next_attempt_at, created_at) ${series}
       SELECT 'msg_o' || i, ?2, ?4, 'room.started', '{}', CASE WHEN i % 10 = 0 THEN 'pending' ELSE 'delivered' END, 1, 'EV_o' || i, ?3 + 3600000, ?3 - i * 1000 FROM n`),
    q(`INSERT INTO egresses (id, egress_id, project_id, org_id, type, room, status, created_at, updated_at) ${series}
       SELECT 'eg_o' || i, 'EG_o' || i || ?4, 'prj_o' || (i % 100 + 3), ?1, 'room_composite', 'r' || (i % 20), 'EGRESS_COMPLETE', ?3 - i, ?3 FROM n`),
    q(`INSERT INTO ingresses (id, ingress_id, project_id, org_id, input_type, room, participant_identity, status, created_at, updated_at) ${series}
       SELECT 'in_o' || i, 'IN_o' || i || ?4, 'prj_o' || (i % 100 + 3), ?1, 'rtmp', 'r' || (i % 20), 'x', 'ENDPOINT_INACTIVE', ?3 - i, ?3 FROM n`),
    q(`INSERT INTO invoices (id, org_id, plan_id, period_start, period_end, status, subtotal_cents, total_cents, created_at) ${series}
       SELECT 'in_o' || i, ?1, 'free', i, i + 1, 'open', 0, 0, ?3 - i FROM n`),
    q(`INSERT INTO usage_events (id, project_id, org_id, meter, quantity, occurred_at, source_id, created_at) ${series}
       SELECT 'ue_o' || i, ?2, ?1, 'participant_minutes', 1, ?3 - i * 60000, 'src_o' || i || ?4, ?3 FROM n`),
    q(`INSERT INTO usage_rollups (project_id, org_id, meter, granularity, bucket_start, quantity, updated_at) ${series}
       SELECT ?2, ?1, 'participant_minutes', 'hour', (?3 / 3600000 - i) * 3600000, 1, ?3 FROM n`),
    q(`INSERT INTO livekit_events (id, event_id, event, room_name, project_id, payload, occurred_at, received_at, processed_at) ${series}
       SELECT 'lke_o' || i, 'EV_o' || i || ?4, 'room_started', ?2 || ':r' || (i % 20), ?2, '{}', ?3 - i * 1000, ?3 - i * 1000, ?3 FROM n`),
    q(`INSERT INTO participant_sessions (id, project_id, org_id, room, participant_sid, identity, joined_at, left_at, minutes, created_at, updated_at) ${series}
       SELECT 'ps_o' || i, ?2, ?1, 'r' || (i % 20), 'PA_o' || i || ?4, 'x', ?3 - i * 60000, ?3 - i * 60000 + 30000, 1, ?3, ?3 FROM n`),
    q(`INSERT INTO user_tokens (id, user_id, purpose, token_hash, created_at, expires_at) ${series} SELECT 'utk_o' || i, 'usr_o' || i, 'password_reset', 'ut' || i || ?4, ?3, ?3 + 3600000 FROM n`),
    q(`INSERT INTO mail_outbox (id, to_address, to_normalized, template, subject, text, status, created_at) ${series}
       SELECT 'mail_o' || i, 'o' || i || '@x.test', 'o' || i || '@x.test', 'invitation', 's', 't', 'sent', ?3 - i * 1000 FROM n`),
    q(`INSERT INTO livekit_keys (id, project_id, org_id, api_key, secret_encrypted, created_at) ${series} SELECT 'lkk_o' || i, ?2, ?1, 'APIo' || i || ?4, 'v1.x.y', ?3 - i FROM n`),
    q(`INSERT INTO known_rooms (project_id, name, last_seen_at) ${series} SELECT 'prj_o' || (i % 100 + 3), 'r' || i, ?3 - i FROM n`),
    q(`INSERT INTO room_sessions (id, project_id, org_id, room, room_sid, started_at, ended_at, created_at, updated_at) ${series}
       SELECT 'rs_o' || i, ?2, ?1, 'r' || (i % 20), 'RM_o' || i || ?4, ?3 - i * 60000, ?3 - i * 60000 + 30000, ?3, ?3 FROM n`),
  ]);
  await env.DB.prepare("ANALYZE").run();
}

/** Asserts the list statement on `table` seeks `index` without sorting, and nothing in the request scans. */
function expectSeek(statements: PlannedStatement[], table: string, index: string, opts: { sorted?: boolean } = {}) {
  expect(fullScans(statements)).toEqual([]);
  const s = statementOn(statements, table);
  expect(s.plan.join("\n")).toMatch(new RegExp(`SEARCH ${table} USING (COVERING )?INDEX ${index} \\(`));
  if (!opts.sorted) expect(s.plan.join("\n")).not.toMatch(/TEMP B-TREE FOR (ORDER BY|RIGHT PART OF ORDER BY)/);
  return s;
}

const deepCursor = encodeCursor({ t: now + HOUR, id: "zzzz" });

let tenant: Awaited<ReturnType<typeof createTenant>>;
let endpointId: string;

beforeAll(async () => {
  await seedOtherTenant();
  tenant = await createTenant();
  endpointId = (await createEndpoint(tenant.user.token, tenant.project.id, { url: "https://hooks.example.com/plans" })).id;
  await env.DB.prepare("ANALYZE").run();
});

describe("list queries seek their tenant's index at the cursor", () => {
  it("pages projects, keys, members, invitations, invoices and webhook endpoints with one index seek each", async () => {
    const { user, org, project } = tenant;
    const c = `limit=5&cursor=${deepCursor}`;
    const cases: [string, string, string][] = [
      [`/v1/orgs/${org.id}/projects?${c}`, "projects", "projects_org_id_created_at_idx"],
      [`/v1/projects/${project.id}/keys?${c}`, "api_keys", "api_keys_project_id_created_at_idx"],
      [`/v1/orgs/${org.id}/members?${c}`, "memberships", "memberships_org_created_idx"],
      [`/v1/orgs/${org.id}/invitations?${c}`, "invitations", "invitations_org_id_created_at_idx"],
      [`/v1/orgs/${org.id}/invoices?${c}`, "invoices", "invoices_org_created_idx"],
      [`/v1/projects/${project.id}/webhooks?${c}`, "webhook_endpoints", "webhook_endpoints_project_id_created_at_idx"],
      [`/v1/projects/${project.id}/webhooks/${endpointId}/deliveries?${c}`, "webhook_messages", "webhook_messages_endpoint_created_idx"],
      [`/v1/projects/${project.id}/webhooks/${endpointId}/deliveries?status=failed&${c}`, "webhook_messages", "webhook_messages_endpoint_status_idx"],
      [`/v1/projects/${project.id}/livekit-keys?${c}`, "livekit_keys", "livekit_keys_project_created_idx"],
    ];
    for (const [path, table, index] of cases) {
      const r = await planRequest("GET", path, user.token);
      expect(r.status, path).toBe(200);
      const s = expectSeek(r.statements, table, index);
      // The cursor is the index range itself, not a filter applied to rows read from the newest.
      expect(s.plan.join("\n"), path).toMatch(/\(created_at,(id|user_id)\)<\(\?,\?\)/);
    }
  });

  it("pages room sessions by project and by room at the cursor", async () => {
    const { user, project } = tenant;
    const c = `limit=5&cursor=${deepCursor}`;
    for (const [path, index] of [
      [`/v1/projects/${project.id}/sessions?${c}`, "room_sessions_project_started_idx"],
      [`/v1/projects/${project.id}/sessions?room=r1&${c}`, "room_sessions_project_room_started_idx"],
    ] as const) {
      const r = await planRequest("GET", path, user.token);
      expect(r.status, `${path} ${r.text}`).toBe(200);
      const s = expectSeek(r.statements, "room_sessions", index);
      expect(s.plan.join("\n"), path).toMatch(/\(started_at,id\)<\(\?,\?\)/);
    }
  });

  it("lists the caller's orgs through their memberships, never the org table", async () => {
    const r = await planRequest("GET", `/v1/orgs?limit=5&cursor=${deepCursor}`, tenant.user.token);
    expect(r.status).toBe(200);
    expect(fullScans(r.statements)).toEqual([]);
    // Bounded by the caller's own memberships (LIMIT_FREE_ORGS_PER_USER and invitations), sorted in memory.
    expect(statementOn(r.statements, "memberships").plan.join("\n")).toMatch(/SEARCH memberships USING (COVERING )?INDEX memberships_user_id_idx \(user_id=\?\)/);
  });

  it("pages egresses and ingresses by project, and by room", async () => {
    const { key } = tenant;
    const c = `limit=5&cursor=${deepCursor}`;
    const cases: [string, string, string][] = [
      [`/v1/egress?${c}`, "egresses", "egresses_project_created_idx"],
      [`/v1/egress?room=r1&${c}`, "egresses", "egresses_project_room_idx"],
      [`/v1/ingress?${c}`, "ingresses", "ingresses_project_created_idx"],
      [`/v1/ingress?room=r1&${c}`, "ingresses", "ingresses_project_room_idx"],
    ];
    for (const [path, table, index] of cases) {
      const r = await planRequest("GET", path, key.secret);
      expect(r.status, `${path} ${r.text}`).toBe(200);
      expectSeek(r.statements, table, index);
    }
  });
});

describe("audit filters use their own index", () => {
  it("serves each filter from an index led by the org and the filter, in keyset order", async () => {
    const { user, org } = tenant;
    const c = `limit=5&cursor=${deepCursor}`;
    const cases: [string, string][] = [
      ["", "audit_logs_org_created_idx"],
      ["action=thing.1", "audit_logs_org_action_idx"],
      [`actor_id=${user.id}`, "audit_logs_org_actor_idx"],
      ["resource_type=type3", "audit_logs_org_resource_idx"],
      ["resource_type=type3&resource_id=thg_3", "audit_logs_org_resource_id_idx"],
      ["resource_id=thg_3", "audit_logs_org_resource_id_idx"],
      [`project_id=${tenant.project.id}`, "audit_logs_org_project_idx"],
      ["since=2020-01-01T00:00:00Z&until=2099-01-01T00:00:00Z", "audit_logs_org_created_idx"],
    ];
    for (const [filter, index] of cases) {
      const path = `/v1/orgs/${org.id}/audit-logs?${filter}&${c}`;
      const r = await planRequest("GET", path, user.token);
      expect(r.status, path).toBe(200);
      const s = expectSeek(r.statements, "audit_logs", index);
      expect(s.plan.join("\n"), filter).toMatch(/\(created_at,id\)<\(\?,\?\)/);
    }
  });

  it("exports page after page from the index, each page starting where the last one ended", async () => {
    const r = await planRequest("GET", `/v1/orgs/${tenant.org.id}/audit-logs/export?format=ndjson&action=thing.1`, tenant.user.token);
    expect(r.status).toBe(200);
    expectSeek(r.statements, "audit_logs", "audit_logs_org_action_idx");
  });
});

describe("usage and metrics read rollups, indexes and counters", () => {
  it("reads a project's and an org's usage by (scope, time), never the other tenant's events", async () => {
    const { user, org, project, key } = tenant;
    for (const [path, token, index] of [
      [`/v1/projects/${project.id}/usage?granularity=day`, user.token, "usage_events_project_occurred_idx"],
      [`/v1/orgs/${org.id}/usage?granularity=hour&since=${new Date(now - 2 * HOUR).toISOString()}`, user.token, "usage_events_org_occurred_idx"],
      ["/v1/usage?granularity=day", key.secret, "usage_events_project_occurred_idx"],
    ] as const) {
      const r = await planRequest("GET", path, token);
      expect(r.status, path).toBe(200);
      expect(fullScans(r.statements)).toEqual([]);
      expect(statementOn(r.statements, "usage_events").plan.join("\n"), path).toMatch(new RegExp(`SEARCH usage_events USING COVERING INDEX ${index} \\(\\w+=\\? AND occurred_at>\\? AND occurred_at<\\?\\)`));
      // The rollups by the tenant's own index, never the all-tenants bucket index the rollup job uses.
      const rollupIndex = path.startsWith(`/v1/orgs/`) ? "usage_rollups_org_idx" : "usage_rollups_project_bucket_idx";
      for (const s of r.statements.filter((s) => /from "usage_rollups"/i.test(s.sql))) {
        expect(s.plan.join("\n"), path).toMatch(new RegExp(`SEARCH usage_rollups USING COVERING INDEX ${rollupIndex} \\((org_id|project_id)=\\? AND granularity=\\?`));
      }
    }
  });

  it("scrapes /metrics without counting any table", async () => {
    const r = await planRequest("GET", "/metrics", "pulse-dev-admin-token");
    expect(r.status).toBe(200);
    expect(fullScans(r.statements)).toEqual([]);
    expect(statementOn(r.statements, "participant_sessions").plan.join("\n")).toMatch(/SEARCH participant_sessions USING COVERING INDEX participant_sessions_open_idx \(left_at=\?\)/);
  });

  it("lists and counts LiveKit events given up on from their partial index, never the table", async () => {
    const cursor = encodeCursor({ t: now, id: "lke_zzz" });
    for (const path of ["/v1/admin/livekit-events/abandoned?limit=5", `/v1/admin/livekit-events/abandoned?limit=5&cursor=${cursor}`, "/metrics"]) {
      const r = await planRequest("GET", path, "pulse-dev-admin-token");
      expect(r.status, path).toBe(200);
      expect(fullScans(r.statements), path).toEqual([]);
      const plan = r.statements.filter((s) => /from "?livekit_events"?/i.test(s.sql) && !/MIN\(/i.test(s.sql)).map((s) => s.plan.join("\n"));
      expect(plan.length, path).toBeGreaterThan(0);
      for (const p of plan) expect(p, path).toMatch(/SEARCH livekit_events USING INDEX livekit_events_abandoned_idx \(abandoned_at>\?/);
    }
  });

  it("reads the inbound lag at the start of the unprocessed events' partial index", async () => {
    const r = await planRequest("GET", "/metrics", "pulse-dev-admin-token");
    const lag = r.statements.filter((s) => /from "?livekit_events"?/i.test(s.sql) && /MIN\(/i.test(s.sql));
    expect(lag.length).toBeGreaterThan(0);
    // SQLite's min() optimisation: the first entry of the index, not a range of it.
    for (const s of lag) expect(s.plan).toEqual(["SEARCH livekit_events USING INDEX livekit_events_unprocessed_idx"]);
  });
});

describe("cron jobs", () => {
  it("run every statement on an index, whatever the tables hold", async () => {
    for (const cron of ["*/5 * * * *", "7 * * * *", "17 3 * * *"]) {
      const statements = await planCron(cron);
      expect(statements.length, cron).toBeGreaterThan(0);
      expect(fullScans(statements), cron).toEqual([]);
      if (cron === "*/5 * * * *") {
        // The teardown finds rooms left to delete from the deleted projects, not from every tenant's rooms.
        const teardown = statements.find((s) => /from "projects" inner join "known_rooms"/i.test(s.sql));
        expect(teardown?.plan.join("\n")).toMatch(/SEARCH projects USING INDEX projects_deleted_at_idx[\s\S]*SEARCH known_rooms USING (COVERING )?INDEX sqlite_autoindex_known_rooms_1 \(project_id=\?\)/);
      }
      if (cron === "7 * * * *") {
        // The rollup read one hour of raw events and one day of hour buckets, each from its covering index.
        const plans = statements.map((s) => s.plan.join("\n")).join("\n");
        expect(plans).toMatch(/SEARCH usage_events USING COVERING INDEX usage_events_occurred_at_idx \(occurred_at>\? AND occurred_at<\?\)/);
        expect(plans).toMatch(/SEARCH usage_rollups USING COVERING INDEX usage_rollups_bucket_idx \(granularity=\? AND bucket_start>\? AND bucket_start<\?\)/);
        // The room and identity buckets: the same hour of raw events, the same day of hour buckets.
        expect(plans).toMatch(/SEARCH usage_dimension_rollups USING COVERING INDEX usage_dimension_rollups_bucket_idx \(granularity=\? AND bucket_start>\? AND bucket_start<\?\)/);
      }
    }
  });
});
