/**
 * Operators' control of web egress: LiveKit's egress runs a browser inside the platform network
 * and points it at the tenant's page, which may load or redirect to anything that network can
 * reach. `WEB_EGRESS=off` refuses web egress outright (403); otherwise a project may carry an
 * operator-set allow-list of origins (platform admin API), and a web egress whose page is on
 * another origin is 403. The list is checked on the URL the tenant gives; what the page does next
 * is for the host network policy (`docs/security.md`).
 */
import { and, eq, isNull } from "drizzle-orm";
import { auditEntry, type AuditActor } from "../audit/record";
import { projects, projectWebEgressOrigins } from "../db/schema";
import type { Deps } from "../deps";
import { nowMs } from "../lib/clock";
import { forbidden, notFound } from "../lib/errors";

/** The project's allow-list, or null when it has none. */
export async function webEgressOrigins(deps: Pick<Deps, "db">, projectId: string): Promise<string[] | null> {
  const row = await deps.db.select({ origins: projectWebEgressOrigins.origins }).from(projectWebEgressOrigins).where(eq(projectWebEgressOrigins.projectId, projectId)).get();
  return row ? (JSON.parse(row.origins) as string[]) : null;
}

/** Throws 403 `forbidden` when this deployment or this project's list refuses a web egress of `url`. */
export async function assertWebEgressAllowed(deps: Pick<Deps, "db" | "config">, projectId: string, url: string): Promise<void> {
  if (!deps.config.webEgress) throw forbidden("Web egress is turned off on this deployment.");
  const origins = await webEgressOrigins(deps, projectId);
  if (origins !== null && !origins.includes(new URL(url).origin)) {
    throw forbidden(`Web egress of this project may only load pages from its allowed origins; ${new URL(url).origin} is not one of them.`);
  }
}

/** Sets (or, with null, removes) a live project's allow-list, audited in the same batch. */
export async function setWebEgressOrigins(deps: Pick<Deps, "db">, actor: AuditActor, projectId: string, origins: string[] | null): Promise<string[] | null> {
  const { db } = deps;
  const project = await db.select({ orgId: projects.orgId }).from(projects).where(and(eq(projects.id, projectId), isNull(projects.deletedAt))).get();
  if (!project) throw notFound("Project");
  const unique = origins === null ? null : [...new Set(origins)];
  const at = nowMs();
  const change =
    unique === null
      ? db.delete(projectWebEgressOrigins).where(eq(projectWebEgressOrigins.projectId, projectId))
      : db
          .insert(projectWebEgressOrigins)
          .values({ projectId, origins: JSON.stringify(unique), updatedAt: at })
          .onConflictDoUpdate({ target: projectWebEgressOrigins.projectId, set: { origins: JSON.stringify(unique), updatedAt: at } });
  await db.batch([
    change,
    auditEntry(db, actor, { action: "project.web_egress_origins_updated", resourceType: "project", resourceId: projectId, orgId: project.orgId, projectId, metadata: { origins: unique } }, at),
  ]);
  return unique;
}
