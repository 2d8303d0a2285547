import { createRoute } from "@hono/zod-openapi";
import { orgAccess, projectAccess } from "../auth/caller";
import { and, eq, isNull } from "drizzle-orm";
import { auditActor, auditEntry } from "../audit/record";
import { projects } from "../db/schema";
import { runBatch } from "../db/client";
import { nowMs } from "../lib/clock";
import { notFound } from "../lib/errors";
import { newId } from "../lib/ids";
import { bearerSecurity, errorResponses, jsonBody, jsonContent, ListQuery, listOf } from "../lib/openapi";
import { createRouter } from "../router";
import { afterCursor, newestFirst, page } from "../lib/pagination";
import { announceRetiredProjects } from "../api-keys/revocation";
import { tearDownDeletedProjects } from "./livekit-teardown";
import { retireProjects } from "./retire";
import { CreateProjectBody, ProjectSchema, serializeProject, UpdateProjectBody } from "./schemas";
import { OrgParams, ProjectParams } from "../lib/params";

export const projectRoutes = createRouter();

const tags = ["Projects"];

projectRoutes.openapi(
  createRoute({
    method: "post",
    path: "/v1/orgs/{org_id}/projects",
    tags,
    summary: "Create a project (admin)",
    security: bearerSecurity,
    request: { params: OrgParams, body: jsonBody(CreateProjectBody) },
    responses: { 201: jsonContent(ProjectSchema, "Created"), ...errorResponses },
  }),
  async (c) => {
    const { org_id } = c.req.valid("param");
    const { name } = c.req.valid("json");
    const db = c.var.db;
    await orgAccess(c, org_id, "project:create");
    const at = nowMs();
    const project = { id: newId("project"), orgId: org_id, name, rateLimitPerMin: null, createdAt: at, updatedAt: at, deletedAt: null };
    c.set("projectId", project.id);
    await db.batch([
      db.insert(projects).values(project),
      auditEntry(
        db,
        auditActor(c),
        { action: "project.created", resourceType: "project", resourceId: project.id, orgId: org_id, projectId: project.id, metadata: { name } },
        at,
      ),
    ]);
    return c.json(serializeProject(project), 201);
  },
);

projectRoutes.openapi(
  createRoute({
    method: "get",
    path: "/v1/orgs/{org_id}/projects",
    tags,
    summary: "List an organization's projects, newest first",
    security: bearerSecurity,
    request: { params: OrgParams, query: ListQuery },
    responses: { 200: jsonContent(listOf(ProjectSchema), "Projects"), ...errorResponses },
  }),
  async (c) => {
    const { org_id } = c.req.valid("param");
    const { limit, cursor } = c.req.valid("query");
    await orgAccess(c, org_id, "project:read");
    const rows = await c.var.db
      .select()
      .from(projects)
      .where(and(eq(projects.orgId, org_id), isNull(projects.deletedAt), afterCursor(cursor, projects.createdAt, projects.id)))
      .orderBy(...newestFirst(projects.createdAt, projects.id))
      .limit(limit + 1)
      .all();
    const result = page(rows, limit);
    return c.json({ data: result.rows.map(serializeProject), next_cursor: result.nextCursor }, 200);
  },
);

projectRoutes.openapi(
  createRoute({
    method: "get",
    path: "/v1/projects/{project_id}",
    tags,
    summary: "Read a project",
    security: bearerSecurity,
    request: { params: ProjectParams },
    responses: { 200: jsonContent(ProjectSchema, "The project"), ...errorResponses },
  }),
  async (c) => {
    const { project_id } = c.req.valid("param");
    const access = await projectAccess(c, project_id, "project:read");
    return c.json(serializeProject(access.project), 200);
  },
);

projectRoutes.openapi(
  createRoute({
    method: "patch",
    path: "/v1/projects/{project_id}",
    tags,
    summary: "Update a project (admin)",
    security: bearerSecurity,
    request: { params: ProjectParams, body: jsonBody(UpdateProjectBody) },
    responses: { 200: jsonContent(ProjectSchema, "Updated"), ...errorResponses },
  }),
  async (c) => {
    const { project_id } = c.req.valid("param");
    const body = c.req.valid("json");
    const db = c.var.db;
    const access = await projectAccess(c, project_id, "project:update");
    const at = nowMs();
    const [updated] = await db.batch([
      db
        .update(projects)
        .set({ name: body.name, updatedAt: at })
        .where(and(eq(projects.id, project_id), isNull(projects.deletedAt)))
        .returning(),
      auditEntry(
        db,
        auditActor(c),
        { action: "project.updated", resourceType: "project", resourceId: project_id, orgId: access.orgId, projectId: project_id, metadata: { name: body.name } },
        at,
      ),
    ]);
    const project = updated[0];
    if (!project) throw notFound("Project");
    return c.json(serializeProject(project), 200);
  },
);

projectRoutes.openapi(
  createRoute({
    method: "delete",
    path: "/v1/projects/{project_id}",
    tags,
    summary: "Delete a project (admin): revokes its keys and webhook endpoints",
    security: bearerSecurity,
    request: { params: ProjectParams },
    responses: { 204: { description: "Deleted" }, ...errorResponses },
  }),
  async (c) => {
    const { project_id } = c.req.valid("param");
    const db = c.var.db;
    const access = await projectAccess(c, project_id, "project:delete");
    await announceRetiredProjects(c, [project_id]);
    const at = nowMs();
    await runBatch(db, [
      ...retireProjects(db, { projectId: project_id }, at),
      auditEntry(db, auditActor(c), { action: "project.deleted", resourceType: "project", resourceId: project_id, orgId: access.orgId, projectId: project_id }, at),
    ]);
    c.executionCtx.waitUntil(tearDownDeletedProjects(db, c.var.config.livekit, c.var.logger, [project_id]).catch(() => undefined));
    return c.body(null, 204);
  },
);
