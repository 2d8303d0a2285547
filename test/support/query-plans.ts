/**
 * Query-plan checks: run a request or a cron job against a D1 binding that records every statement
 * it prepares, then ask SQLite (`EXPLAIN QUERY PLAN`, same binds) how it runs each one. Tests assert
 * on the statements the code really sends, not on copies of them.
 */
import { createExecutionContext, createScheduledController, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import worker from "../../src/index";
import type { Bindings } from "../../src/env";
import { BASE } from "./api";
import { recordingD1, type RecordedStatement } from "./recording-d1";

export { recordingD1, type RecordedStatement };

/** The plan's detail lines, e.g. `SEARCH audit_logs USING INDEX audit_logs_org_action_idx (org_id=? AND action=? AND (created_at,id)<(?,?))`. */
export async function queryPlan(statement: RecordedStatement): Promise<string[]> {
  const result = await env.DB.prepare(`EXPLAIN QUERY PLAN ${statement.sql}`)
    .bind(...statement.params)
    .all<{ detail: string }>();
  return result.results.map((r) => r.detail);
}

export interface PlannedStatement extends RecordedStatement {
  plan: string[];
}

/** Plans of the recorded statements that read or change rows (not plain INSERT … VALUES, not PRAGMAs). */
export async function plansOf(log: RecordedStatement[]): Promise<PlannedStatement[]> {
  const planned: PlannedStatement[] = [];
  for (const s of log) {
    const text = s.sql.trim();
    if (/^pragma/i.test(text)) continue;
    if (/^insert/i.test(text) && !/\bselect\b/i.test(text)) continue;
    planned.push({ ...s, plan: await queryPlan(s) });
  }
  return planned;
}

/**
 * Tables whose scan costs the same at any scale: small fixed ones, and `json_each`, which walks the
 * statement's own bound rows (src/db/json-rows.ts: one batch's, never a table's).
 */
const FIXED_TABLES = new Set(["plans", "metric_counts", "json_each"]);

/** Plan lines that walk a whole table or a whole index: `SCAN t` (SQLite's word for no seek). */
export function fullScans(statements: PlannedStatement[]): string[] {
  const found: string[] = [];
  for (const s of statements) {
    for (const line of s.plan) {
      const m = /^SCAN (\w+)/.exec(line);
      if (m && !FIXED_TABLES.has(m[1]!) && m[1] !== "CONSTANT") found.push(`${line}   <- ${s.sql.replace(/\s+/g, " ").slice(0, 200)}`);
    }
  }
  return found;
}

/** The recorded SELECT from `table` (the one with ORDER BY … LIMIT when there are several, e.g. a list after its access check). */
export function statementOn(statements: PlannedStatement[], table: string): PlannedStatement {
  const reads = statements.filter((s) => /^\s*select/i.test(s.sql) && new RegExp(`\\bfrom\\s+["\`]?${table}["\`]?(\\s|$)`, "i").test(s.sql));
  const found = reads.find((s) => /\border by\b[\s\S]*\blimit\b/i.test(s.sql)) ?? reads[0];
  if (!found) throw new Error(`no SELECT from ${table} among:\n${statements.map((s) => s.sql).join("\n")}`);
  return found;
}

/** Runs one request through the Worker with the recording binding; returns the response and the plans. */
export async function planRequest(method: string, path: string, token?: string) {
  const log: RecordedStatement[] = [];
  const patched = Object.assign(Object.create(null), env, { DB: recordingD1(env.DB, log) }) as Bindings;
  const headers: Record<string, string> = { "CF-Connecting-IP": "203.0.113.77" };
  if (token) headers.Authorization = `Bearer ${token}`;
  const ctx = createExecutionContext();
  const res = await worker.fetch(new Request(`${BASE}${path}`, { method, headers }), patched, ctx);
  const text = await res.text();
  await waitOnExecutionContext(ctx);
  return { status: res.status, text, statements: await plansOf(log) };
}

/** Runs the Worker's scheduled handler for one cron expression with the recording binding. */
export async function planCron(cron: string) {
  const log: RecordedStatement[] = [];
  const patched = Object.assign(Object.create(null), env, { DB: recordingD1(env.DB, log) }) as Bindings;
  const ctx = createExecutionContext();
  await worker.scheduled(createScheduledController({ cron, scheduledTime: Date.now() }), patched, ctx);
  await waitOnExecutionContext(ctx);
  return plansOf(log);
}
