/**
 * Writing audit entries. An entry is returned as a query for the caller's `db.batch()`, so the
 * change and its record commit or fail together; nothing here writes on its own.
 */
import { getTableColumns, sql, type SQL } from "drizzle-orm";
import type { SQLiteColumn, SQLiteTable } from "drizzle-orm/sqlite-core";
import type { Context } from "hono";
import type { BatchItem, Database } from "../db/client";
import { auditLogs } from "../db/schema";
import type { AppEnv } from "../env";
import { nowMs } from "../lib/clock";
import { newId } from "../lib/ids";
import { clientIp, userAgent } from "../middleware/request-context";

export interface AuditActor {
  actorType: "user" | "api_key" | "system" | "anonymous";
  actorId: string | null;
  ip: string | null;
  userAgent: string | null;
  requestId: string | null;
}

/** A signed-in person performing an operation: who they are, and how the audit log names the request. */
export interface UserActor {
  userId: string;
  audit: AuditActor;
}

export interface AuditEvent {
  /** `resource.verb` in the past tense: `project.created`, `api_key.revoked`, `user.login_failed`. */
  action: string;
  resourceType: string;
  resourceId: string | null;
  orgId?: string | null;
  projectId?: string | null;
  /** Small, non-secret facts (names, roles, changed fields). */
  metadata?: Record<string, unknown>;
}

/** The actor of the current request, from whatever authenticated it. */
export function auditActor(c: Context<AppEnv>): AuditActor {
  const caller = c.var.caller;
  return {
    actorType: caller ? caller.kind : "anonymous",
    actorId: caller ? (caller.kind === "user" ? caller.userId : caller.keyId) : null,
    ip: clientIp(c),
    userAgent: userAgent(c),
    requestId: c.var.requestId,
  };
}

export const SYSTEM_ACTOR: AuditActor = { actorType: "system", actorId: null, ip: null, userAgent: null, requestId: null };

// Defence in depth: even if a caller passes one by mistake, these never reach the log.
const SECRET_KEY = /secret|password|token|key_hash|credential/i;

function scrub(metadata: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(metadata)) {
    if (SECRET_KEY.test(k)) continue;
    out[k] = v && typeof v === "object" && !Array.isArray(v) ? scrub(v as Record<string, unknown>) : v;
  }
  return out;
}

function auditRow(actor: AuditActor, event: AuditEvent, at: number): typeof auditLogs.$inferInsert {
  return {
    id: newId("audit"),
    orgId: event.orgId ?? null,
    projectId: event.projectId ?? null,
    actorType: actor.actorType,
    actorId: actor.actorId,
    action: event.action,
    resourceType: event.resourceType,
    resourceId: event.resourceId,
    ip: actor.ip,
    userAgent: actor.userAgent,
    requestId: actor.requestId,
    metadata: JSON.stringify(scrub(event.metadata ?? {})),
    createdAt: at,
  };
}

export function auditEntry(db: Database, actor: AuditActor, event: AuditEvent, at = nowMs()): BatchItem {
  return db.insert(auditLogs).values(auditRow(actor, event, at));
}

/**
 * One entry per row `rows.where` selects in `rows.table` (INSERT … SELECT … FROM), for a change
 * that takes a set of rows in one statement, such as a deletion cascade revoking every key of a
 * project: put it BEFORE that change in the same batch with the same `where`, so each row the
 * change takes has its own entry, and a row already taken (by an earlier change) has none. The
 * entry's ids are drawn in SQL (`aud_` + 22 random hex digits, within the ids' alphabet).
 * `rows.metadata` is SQL building the JSON object; it is not scrubbed, so it must name no secret.
 */
export function auditEntriesForRows(
  db: Database,
  actor: AuditActor,
  event: Pick<AuditEvent, "action" | "resourceType">,
  rows: { table: SQLiteTable; where: SQL; resourceId: SQLiteColumn; orgId: SQLiteColumn; projectId: SQLiteColumn; metadata: SQL },
  at = nowMs(),
): BatchItem {
  const values = selectedValues(auditRow(actor, { ...event, resourceId: null }, at), {
    id: sql`'aud_' || hex(randomblob(11))`,
    orgId: sql`${rows.orgId}`,
    projectId: sql`${rows.projectId}`,
    resourceId: sql`${rows.resourceId}`,
    metadata: rows.metadata,
  });
  return db.insert(auditLogs).select(sql`SELECT ${values} FROM ${rows.table} WHERE ${rows.where}`);
}

/**
 * The SELECT list of an INSERT … SELECT into the audit log: `row`'s values, with `computed` SQL in
 * place of some. drizzle lists every column in definition order; the SELECT must match it.
 */
function selectedValues(row: typeof auditLogs.$inferInsert, computed: Partial<Record<keyof typeof auditLogs.$inferInsert, SQL>>): SQL {
  const values = (Object.keys(getTableColumns(auditLogs)) as (keyof typeof auditLogs.$inferInsert)[]).map((key) => computed[key] ?? sql`${row[key] ?? null}`);
  return sql.join(values, sql`, `);
}

/**
 * An entry written only if `condition` holds when the statement runs (INSERT … SELECT … WHERE).
 * For guarded changes (`UPDATE … WHERE <guard>`): put this BEFORE the change in the same batch
 * with the same guard. A batch is one transaction, so both see the same state and the entry
 * exists exactly when the change happened.
 *
 * `metadataFrom`, when given, is the metadata as a JSON object computed by the statement itself
 * (instead of `event.metadata`): for a change that picks its rows in SQL, so the entry lists
 * exactly the rows the change then takes. It is not scrubbed: it must name no secret.
 */
export function auditEntryWhen(db: Database, actor: AuditActor, event: AuditEvent, condition: SQL, at = nowMs(), metadataFrom?: SQL): BatchItem {
  const values = selectedValues(auditRow(actor, event, at), metadataFrom ? { metadata: metadataFrom } : {});
  return db.insert(auditLogs).select(sql`SELECT ${values} WHERE ${condition}`);
}
