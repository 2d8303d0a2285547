import { createRoute } from "@hono/zod-openapi";
import { currentUser, orgAccess } from "../auth/caller";
import { and, eq, isNull } from "drizzle-orm";
import { auditActor, auditEntry } from "../audit/record";
import { invitations, memberships, organizations, projects } from "../db/schema";
import { runBatch } from "../db/client";
import { nowMs } from "../lib/clock";
import { notFound } from "../lib/errors";
import { newId } from "../lib/ids";
import { bearerSecurity, errorResponses, jsonBody, jsonContent, ListQuery, listOf } from "../lib/openapi";
import { createRouter } from "../router";
import { afterCursor, newestFirst, page } from "../lib/pagination";
import { announceRetiredProjects } from "../api-keys/revocation";
import { tearDownDeletedProjects } from "../projects/livekit-teardown";
import { retireProjects } from "../projects/retire";
import { CreateOrgBody, OrgSchema, serializeOrg, UpdateOrgBody } from "./schemas";
import { OrgParams } from "../lib/params";

export const orgRoutes = createRouter();

const tags = ["Organizations"];

orgRoutes.openapi(
  createRoute({
    method: "post",
    path: "/v1/orgs",
    tags,
    summary: "Create an organization; the caller becomes its owner",
    security: bearerSecurity,
    request: { body: jsonBody(CreateOrgBody) },
    responses: { 201: jsonContent(OrgSchema, "Created"), ...errorResponses },
  }),
  async (c) => {
    const { userId } = currentUser(c);
    const { name } = c.req.valid("json");
    const db = c.var.db;
    const at = nowMs();
    const org = { id: newId("org"), name, planId: "free", createdAt: at, updatedAt: at, deletedAt: null };
    c.set("orgId", org.id);
    await db.batch([
      db.insert(organizations).values(org),
      db.insert(memberships).values({ orgId: org.id, userId, role: "owner", createdAt: at, updatedAt: at }),
      auditEntry(db, auditActor(c), { action: "org.created", resourceType: "org", resourceId: org.id, orgId: org.id, metadata: { name } }, at),
    ]);
    return c.json(serializeOrg(org, "owner"), 201);
  },
);

orgRoutes.openapi(
  createRoute({
    method: "get",
    path: "/v1/orgs",
    tags,
    summary: "Organizations the caller belongs to, newest first",
    security: bearerSecurity,
    request: { query: ListQuery },
    responses: { 200: jsonContent(listOf(OrgSchema), "Organizations"), ...errorResponses },
  }),
  async (c) => {
    const { userId } = currentUser(c);
    const { limit, cursor } = c.req.valid("query");
    const rows = await c.var.db
      .select({ org: organizations, role: memberships.role })
      .from(memberships)
      .innerJoin(organizations, eq(organizations.id, memberships.orgId))
      .where(and(eq(memberships.userId, userId), isNull(organizations.deletedAt), afterCursor(cursor, organizations.createdAt, organizations.id)))
      .orderBy(...newestFirst(organizations.createdAt, organizations.id))
      .limit(limit + 1)
      .all();
    const result = page(rows.map((r) => ({ ...r, id: r.org.id, createdAt: r.org.createdAt })), limit);
    return c.json({ data: result.rows.map((r) => serializeOrg(r.org, r.role)), next_cursor: result.nextCursor }, 200);
  },
);

orgRoutes.openapi(
  createRoute({
    method: "get",
    path: "/v1/orgs/{org_id}",
    tags,
    summary: "Read an organization",
    security: bearerSecurity,
    request: { params: OrgParams },
    responses: { 200: jsonContent(OrgSchema, "The organization"), ...errorResponses },
  }),
  async (c) => {
    const { org_id } = c.req.valid("param");
    const access = await orgAccess(c, org_id, "org:read");
    const org = await c.var.db.select().from(organizations).where(eq(organizations.id, org_id)).get();
    if (!org) throw notFound("Organization");
    return c.json(serializeOrg(org, access.role), 200);
  },
);

orgRoutes.openapi(
  createRoute({
    method: "patch",
    path: "/v1/orgs/{org_id}",
    tags,
    summary: "Rename an organization (admin)",
    security: bearerSecurity,
    request: { params: OrgParams, body: jsonBody(UpdateOrgBody) },
    responses: { 200: jsonContent(OrgSchema, "Updated"), ...errorResponses },
  }),
  async (c) => {
    const { org_id } = c.req.valid("param");
    const { name } = c.req.valid("json");
    const db = c.var.db;
    const access = await orgAccess(c, org_id, "org:update");
    const at = nowMs();
    const [updated] = await db.batch([
      db.update(organizations).set({ name, updatedAt: at }).where(and(eq(organizations.id, org_id), isNull(organizations.deletedAt))).returning(),
      auditEntry(db, auditActor(c), { action: "org.updated", resourceType: "org", resourceId: org_id, orgId: org_id, metadata: { name } }, at),
    ]);
    const org = updated[0];
    if (!org) throw notFound("Organization");
    return c.json(serializeOrg(org, access.role), 200);
  },
);

orgRoutes.openapi(
  createRoute({
    method: "delete",
    path: "/v1/orgs/{org_id}",
    tags,
    summary: "Delete an organization (owner): revokes every key and endpoint in it",
    security: bearerSecurity,
    request: { params: OrgParams },
    responses: { 204: { description: "Deleted" }, ...errorResponses },
  }),
  async (c) => {
    const { org_id } = c.req.valid("param");
    const db = c.var.db;
    await orgAccess(c, org_id, "org:delete");
    const live = await db.select({ id: projects.id }).from(projects).where(and(eq(projects.orgId, org_id), isNull(projects.deletedAt))).all();
    await announceRetiredProjects(c, live.map((p) => p.id));
    const at = nowMs();
    await runBatch(db, [
      ...retireProjects(db, { orgId: org_id }, at),
      db.update(invitations).set({ revokedAt: at }).where(and(eq(invitations.orgId, org_id), isNull(invitations.acceptedAt), isNull(invitations.revokedAt))),
      db.update(organizations).set({ deletedAt: at, updatedAt: at }).where(eq(organizations.id, org_id)),
      auditEntry(db, auditActor(c), { action: "org.deleted", resourceType: "org", resourceId: org_id, orgId: org_id }, at),
    ]);
    const projectIds = live.map((p) => p.id);
    if (projectIds.length > 0) {
      c.executionCtx.waitUntil(tearDownDeletedProjects(db, c.var.config.livekit, c.var.logger, projectIds).catch(() => undefined));
    }
    return c.body(null, 204);
  },
);
