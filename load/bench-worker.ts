/**
 * Bench-only Worker (`wrangler dev load/bench-worker.ts` with Pulse's own wrangler.toml, used by
 * `npm run bench:data`; never deployed, never in the production bundle): Pulse's own Worker plus routes under `/__bench/` that the data
 * bench needs and the API must never have:
 *
 * - `POST /__bench/seed`: bulk rows for one org through `INSERT … SELECT` over a recursive series,
 *   in chunks, inside D1 (seeding a million rows through the API would take hours);
 * - `POST /__bench/cron?cron=…`: runs the real scheduled handler with a D1 binding that times every
 *   call (a `db.batch()` is one call: one transaction holding D1's single writer), and answers the
 *   total time and the slowest calls;
 * - `GET /__bench/cursor?org_id&depth`: the audit cursor of the row `depth` rows from the newest, as
 *   a client would hold it after paging that deep (`&table=room_sessions&project_id=` for sessions);
 * - `GET /__bench/past-retention?now=`: per table, the rows the daily cleanup's rules would delete
 *   at `now` (default: now): its backlog before a run, what it left by that run's own cutoffs;
 * - `GET /__bench/explain?path=…`: runs that GET through Pulse with the timing binding and answers
 *   each statement's D1 time and `EXPLAIN QUERY PLAN`, so a slow page can be told apart from a
 *   slow machine (the plan and D1's own time at both sizes).
 */
import { sql } from "drizzle-orm";
import { loadConfig } from "../src/config";
import { createDb } from "../src/db/client";
import { cleanupPolicyOf, retentionRules } from "../src/jobs/cleanup";
import { encodeCursor } from "../src/lib/pagination";
import { recordingD1 } from "../test/support/recording-d1";
import worker from "../src/index";
import type { Bindings } from "../src/env";

export { RateLimiter } from "../src/index";

interface Timed {
  ms: number;
  sql: string;
  kind: string;
}

function timingD1(real: D1Database, log: Timed[]): D1Database {
  const time = async <T>(kind: string, sql: string, run: () => Promise<T>): Promise<T> => {
    const started = performance.now();
    try {
      return await run();
    } finally {
      log.push({ ms: performance.now() - started, sql: sql.replace(/\s+/g, " ").slice(0, 300), kind });
    }
  };
  const sqlOf = new WeakMap<object, string>();
  const wrap = (statement: D1PreparedStatement, sql: string): D1PreparedStatement => {
    const proxy = new Proxy(statement, {
      get(target, prop) {
        if (prop === "bind") return (...values: unknown[]) => wrap(target.bind(...values), sql);
        if (prop === "all" || prop === "run" || prop === "first" || prop === "raw") {
          return (...args: unknown[]) => time(String(prop), sql, () => (target[prop] as (...a: unknown[]) => Promise<unknown>).apply(target, args));
        }
        if (prop === "__real") return target;
        const value = Reflect.get(target, prop, target) as unknown;
        return typeof value === "function" ? value.bind(target) : value;
      },
    });
    sqlOf.set(proxy, sql);
    return proxy;
  };
  return new Proxy(real, {
    get(target, prop) {
      if (prop === "prepare") return (sql: string) => wrap(target.prepare(sql), sql);
      if (prop === "batch") {
        return (statements: D1PreparedStatement[]) => {
          const reals = statements.map((s) => ((s as unknown as { __real?: D1PreparedStatement }).__real ?? s));
          const first = statements[0] ? (sqlOf.get(statements[0]) ?? "") : "";
          return time(`batch(${statements.length})`, first, () => target.batch(reals));
        };
      }
      const value = Reflect.get(target, prop, target) as unknown;
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}

const series = (n: number) => `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ${n})`;
const CHUNK = 10_000;
const DAY = 86_400_000;

interface SeedRequest {
  table: "usage_events" | "audit_logs" | "participant_sessions" | "room_sessions";
  org_id: string;
  project_ids: string[];
  /** Rows in this request, starting at row `offset` of a seed of `total` rows. */
  count: number;
  offset?: number;
  total?: number;
  /** Distinguishes the ids of separate seeds of one table. */
  label?: string;
  /** Rows spread evenly over [now - span_days, now). */
  span_days: number;
}

/** ?1 = org id, ?2 = now. Usage carries rooms and identities, so the room/identity rollups do real work. */
function seedSql(table: SeedRequest["table"], tag: string, n: number, offset: number, total: number, step: number, projectExpr: string): string {
  const at = `?2 - (i + ${offset}) * ${step}`;
  switch (table) {
    case "usage_events":
      return `INSERT OR IGNORE INTO usage_events (id, project_id, org_id, meter, quantity, occurred_at, source_id, room, identity, created_at) ${series(n)}
        SELECT 'ue_${tag}_' || i, ${projectExpr}, ?1, CASE (i % 4) WHEN 0 THEN 'participant_minutes' WHEN 1 THEN 'egress_minutes' WHEN 2 THEN 'ingress_minutes' ELSE 'tokens_issued' END,
               1 + (i % 7), ${at}, 'src_${tag}_' || i, 'room-' || (i % 200), CASE (i % 4) WHEN 1 THEN NULL ELSE 'user-' || (i % 1000) END, ?2 FROM n`;
    case "audit_logs":
      return `INSERT OR IGNORE INTO audit_logs (id, org_id, project_id, actor_type, actor_id, action, resource_type, resource_id, metadata, created_at) ${series(n)}
        SELECT 'aud_${tag}_' || i, ?1, ${projectExpr}, 'user', 'usr_bench' || (i % 50),
               CASE WHEN (i + ${offset}) % ${Math.floor(total / 20)} = 7 THEN 'thing.rare' ELSE 'thing.common' || (i % 10) END,
               'thing', CASE WHEN (i + ${offset}) % ${Math.floor(total / 20)} = 11 THEN 'res_rare' ELSE 'res_' || (i % 5000) END,
               '{"n":' || i || '}', ${at} FROM n`;
    case "participant_sessions":
      // Ten participants per room lifetime (room_sessions seeds total / 10 of them with the same step × 10).
      return `INSERT OR IGNORE INTO participant_sessions (id, project_id, org_id, room, participant_sid, identity, joined_at, left_at, minutes, end_reason, room_session_id, created_at, updated_at) ${series(n)}
        SELECT 'ps_${tag}_' || i, ${projectExpr}, ?1, 'room-' || ((i + ${offset}) / 10 % 200), 'PA_${tag}_' || i, 'user-' || (i % 1000), ${at}, ${at} + 600000, 10, 'left',
               'rs_bench_' || ((i + ${offset}) / 10), ${at}, ?2 FROM n`;
    case "room_sessions":
      return `INSERT OR IGNORE INTO room_sessions (id, project_id, org_id, room, room_sid, started_at, ended_at, participant_count, peak_participants, participant_minutes, created_at, updated_at) ${series(n)}
        SELECT 'rs_bench_' || (i + ${offset}), ${projectExpr}, ?1, 'room-' || ((i + ${offset}) % 200), 'RM_${tag}_' || i, ${at}, ${at} + 900000, 10, 10, 100, ${at}, ?2 FROM n`;
  }
}

async function seed(env: Bindings, body: SeedRequest) {
  const now = Date.now();
  const started = Date.now();
  const total = body.total ?? body.count;
  const first = body.offset ?? 0;
  const step = Math.max(1, Math.floor((body.span_days * DAY) / total));
  const projects = body.project_ids.map((p) => `'${p.replace(/'/g, "''")}'`);
  const projectExpr = `(CASE (i % ${projects.length}) ${projects.map((p, k) => `WHEN ${k} THEN ${p}`).join(" ")} END)`;
  for (let offset = first; offset < first + body.count; offset += CHUNK) {
    const n = Math.min(CHUNK, first + body.count - offset);
    // Deterministic ids and INSERT OR IGNORE: a seed request repeated after a runtime restart
    // inserts only what is missing.
    const tag = `${body.label ?? "s"}${offset}`;
    const sql = seedSql(body.table, tag, n, offset, total, step, projectExpr);
    await env.DB.prepare(sql).bind(body.org_id, now).run();
  }
  return { table: body.table, count: body.count, ms: Date.now() - started };
}

export default {
  async fetch(request: Request, env: Bindings, ctx: ExecutionContext): Promise<Response> {
    const url = new URL(request.url);
    if (url.pathname === "/__bench/seed" && request.method === "POST") {
      return Response.json(await seed(env, (await request.json()) as SeedRequest));
    }
    if (url.pathname === "/__bench/analyze" && request.method === "POST") {
      const started = Date.now();
      await env.DB.prepare("PRAGMA optimize").run();
      return Response.json({ ms: Date.now() - started });
    }
    if (url.pathname === "/__bench/cron" && request.method === "POST") {
      const cron = url.searchParams.get("cron") ?? "";
      const log: Timed[] = [];
      const timedEnv = Object.assign(Object.create(null), env, { DB: timingD1(env.DB, log) }) as Bindings;
      const started = Date.now();
      await worker.scheduled({ cron, scheduledTime: started, noRetry() {} } as ScheduledController, timedEnv, ctx);
      const slowest = [...log].sort((a, b) => b.ms - a.ms).slice(0, 5).map((t) => ({ ...t, ms: Number(t.ms.toFixed(1)) }));
      return Response.json({ cron, scheduled_time: started, total_ms: Date.now() - started, calls: log.length, slowest });
    }
    if (url.pathname === "/__bench/cursor") {
      const depth = Number(url.searchParams.get("depth"));
      const row =
        url.searchParams.get("table") === "room_sessions"
          ? await env.DB.prepare("SELECT started_at AS created_at, id FROM room_sessions WHERE project_id = ? ORDER BY started_at DESC, id DESC LIMIT 1 OFFSET ?")
              .bind(url.searchParams.get("project_id"), depth)
              .first<{ created_at: number; id: string }>()
          : await env.DB.prepare("SELECT created_at, id FROM audit_logs WHERE org_id = ? ORDER BY created_at DESC, id DESC LIMIT 1 OFFSET ?")
              .bind(url.searchParams.get("org_id"), depth)
              .first<{ created_at: number; id: string }>();
      return Response.json({ cursor: row ? encodeCursor({ t: row.created_at, id: row.id }) : null });
    }
    if (url.pathname === "/__bench/explain") {
      const log: Timed[] = [];
      const recorded: { sql: string; params: unknown[] }[] = [];
      const timedEnv = Object.assign(Object.create(null), env, { DB: timingD1(recordingD1(env.DB, recorded), log) }) as Bindings;
      const target = new Request(new URL(url.searchParams.get("path") ?? "/", url.origin), { headers: request.headers });
      const res = await worker.fetch(target, timedEnv, ctx);
      await res.arrayBuffer();
      const statements = [];
      for (const s of recorded) {
        if (!/^\s*select/i.test(s.sql)) continue;
        const sql = s.sql.replace(/\s+/g, " ").slice(0, 300);
        const plan = await env.DB.prepare(`EXPLAIN QUERY PLAN ${s.sql}`).bind(...s.params).all<{ detail: string }>();
        const ms = log.find((t) => t.sql === sql)?.ms ?? null;
        statements.push({ sql, ms: ms === null ? null : Number(ms.toFixed(2)), plan: plan.results.map((r) => r.detail) });
      }
      return Response.json({ status: res.status, statements });
    }
    if (url.pathname === "/__bench/past-retention") {
      const db = createDb(env.DB);
      const tables: Record<string, number> = {};
      // `now`: judge by the cutoffs of a given run (rows keep crossing them as time passes).
      const now = Number(url.searchParams.get("now") ?? Date.now());
      for (const [table, where] of await retentionRules(db, cleanupPolicyOf(loadConfig(env), now))) {
        const row = await db.get<{ n: number }>(sql`SELECT COUNT(*) AS n FROM ${sql.identifier(table)} WHERE ${where}`);
        tables[table] = (tables[table] ?? 0) + row.n;
      }
      return Response.json({ tables });
    }
    if (url.pathname === "/__bench/count") {
      const table = url.searchParams.get("table");
      if (!["usage_events", "audit_logs", "usage_rollups", "usage_dimension_rollups", "usage_dirty_hours", "participant_sessions", "room_sessions"].includes(table ?? "")) return new Response("bad table", { status: 400 });
      const row = await env.DB.prepare(`SELECT COUNT(*) AS n FROM ${table}`).first<{ n: number }>();
      return Response.json({ table, rows: row?.n ?? 0 });
    }
    return worker.fetch(request, env, ctx);
  },
  queue: worker.queue,
  scheduled: worker.scheduled,
} satisfies ExportedHandler<Bindings>;
