/**
 * `access.denied`: every 403 a signed-in user or API key gets on an org's or project's resource
 * is written to that org's audit log (route template, method, permission, actor), so owners see
 * who probes what they may not do.
 *
 * Bounded so it cannot be used to flood the log or D1: the write runs after the answer
 * (`waitUntil`, best effort: a failed write is logged, never turned into an error), and each
 * isolate records at most DENIALS_PER_ACTOR_PER_MINUTE per actor per minute; the rest are counted
 * in the request log only. A 403 without a caller or outside an org (e.g. plain HTTP in
 * production) is not an org's business and is not recorded.
 */
import type { Context } from "hono";
import { denialOf } from "../authz/access";
import type { AppEnv } from "../env";
import { nowMs } from "../lib/clock";
import type { ApiError } from "../lib/errors";
import { errorMessage } from "../lib/logger";
import { auditActor, auditEntry } from "./record";

export const ACCESS_DENIED_ACTION = "access.denied";
export const DENIALS_PER_ACTOR_PER_MINUTE = 10;
const MAX_TRACKED_ACTORS = 10_000;
const windows = new Map<string, { start: number; count: number }>();

/** True when this isolate may still record a denial for `actor` in the current minute. */
function admit(actor: string, at: number): boolean {
  const w = windows.get(actor);
  if (!w || at - w.start >= 60_000) {
    if (!w && windows.size >= MAX_TRACKED_ACTORS) windows.delete(windows.keys().next().value!);
    windows.set(actor, { start: at, count: 1 });
    return true;
  }
  w.count++;
  return w.count <= DENIALS_PER_ACTOR_PER_MINUTE;
}

export function auditDenied(c: Context<AppEnv>, error: ApiError): void {
  if (error.status !== 403 || !c.var.caller || !c.var.db) return;
  const denial = denialOf(error);
  const orgId = denial?.orgId ?? c.var.orgId;
  if (!orgId) return;
  const actor = auditActor(c);
  if (!admit(`${actor.actorType}:${actor.actorId}`, nowMs())) return;
  const projectId = denial?.projectId ?? c.var.projectId ?? null;
  const write = Promise.resolve(
    auditEntry(c.var.db, actor, {
      action: ACCESS_DENIED_ACTION,
      resourceType: projectId ? "project" : "org",
      resourceId: projectId ?? orgId,
      orgId,
      projectId,
      metadata: { route: c.req.routePath, method: c.req.method, ...(denial ? { permission: denial.permission } : {}) },
    }),
  ).catch((e) => c.var.logger?.warn("access_denied_audit_failed", { error_message: errorMessage(e) }));
  c.executionCtx.waitUntil(write);
}
