/** Reading the audit log: one filter builder shared by list and export so they can never disagree. */
import { and, eq, gte, lt, type SQL } from "drizzle-orm";
import type { Database } from "../db/client";
import type { Deps } from "../deps";
import { notFound } from "../lib/errors";
import { auditLogs } from "../db/schema";
import { afterCursor, decodeCursor, newestFirst, page, type PageRequest } from "../lib/pagination";
import type { AuditFilters } from "./schemas";

export function auditWhere(orgId: string, f: AuditFilters, cursor?: string): SQL | undefined {
  const until = f.until ? Date.parse(f.until) : undefined;
  // Past the first page the cursor is the upper bound; `until` is dropped when the cursor implies
  // it, so the index range starts at the cursor (a deep page costs what the first one does).
  const position = cursor ? decodeCursor(cursor) : undefined;
  const untilNeeded = until !== undefined && !(position && position.t < until);
  return and(
    eq(auditLogs.orgId, orgId),
    f.action ? eq(auditLogs.action, f.action) : undefined,
    f.actor_id ? eq(auditLogs.actorId, f.actor_id) : undefined,
    f.resource_type ? eq(auditLogs.resourceType, f.resource_type) : undefined,
    f.resource_id ? eq(auditLogs.resourceId, f.resource_id) : undefined,
    f.project_id ? eq(auditLogs.projectId, f.project_id) : undefined,
    f.since ? gte(auditLogs.createdAt, Date.parse(f.since)) : undefined,
    untilNeeded ? lt(auditLogs.createdAt, until) : undefined,
    afterCursor(cursor, auditLogs.createdAt, auditLogs.id),
  );
}

export function fetchAuditPage(db: Database, orgId: string, f: AuditFilters, limit: number, cursor?: string) {
  return db
    .select()
    .from(auditLogs)
    .where(auditWhere(orgId, f, cursor))
    .orderBy(...newestFirst(auditLogs.createdAt, auditLogs.id))
    .limit(limit)
    .all();
}

/** One page of the org's entries matching `filters`, newest first. */
export async function listAuditEntries(deps: Pick<Deps, "db">, orgId: string, filters: AuditFilters, { limit, cursor }: PageRequest) {
  return page(await fetchAuditPage(deps.db, orgId, filters, limit + 1, cursor), limit);
}

export async function findAuditEntry(deps: Pick<Deps, "db">, orgId: string, id: string) {
  const row = await deps.db.select().from(auditLogs).where(and(eq(auditLogs.id, id), eq(auditLogs.orgId, orgId))).get();
  if (!row) throw notFound("Audit entry");
  return row;
}
