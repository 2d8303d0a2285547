import { createRoute } from "@hono/zod-openapi";
import { auditActor } from "../audit/record";
import { orgAccess, projectAccess } from "../authz/access";
import { depsOf } from "../deps";
import { requireUser } from "../identity/sessions";
import { OrgParams, ProjectParams } from "../lib/params";
import { bearerSecurity, errorResponses, jsonBody, jsonContent, ListQuery, listOf } from "../lib/openapi";
import { createRouter } from "../router";
import { CreateProjectBody, ProjectSchema, serializeProject, UpdateProjectBody } from "./schemas";
import { createProject, deleteProject, listProjects, renameProject } from "./service";
export const projectRoutes = createRouter();
projectRoutes.use("/v1/orgs/:org_id/projects", requireUser);
projectRoutes.use("/v1/projects/*", requireUser);

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
    await orgAccess(c, org_id, "project:create");
    const project = await createProject(c.var.db, auditActor(c), org_id, name);
    c.set("projectId", project.id);
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
    const result = await listProjects(c.var.db, org_id, { limit, cursor });
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
    const access = await projectAccess(c, project_id, "project:update");
    const project = await renameProject(c.var.db, auditActor(c), { id: project_id, orgId: access.orgId }, body.name);
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
    const access = await projectAccess(c, project_id, "project:delete");
    await deleteProject(depsOf(c), auditActor(c), { id: project_id, orgId: access.orgId });
    return c.body(null, 204);
  },
);
