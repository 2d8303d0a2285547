/** `/v1/orgs/{org_id}/projects` and `/v1/projects/{project_id}` (session routes). */
import { createRoute } from "@hono/zod-openapi";
import { orgAccess, projectAccess } from "../auth/caller";
import { auditActor } from "../audit/record";
import { depsOf } from "../deps";
import { bearerSecurity, conflictResponse, errorResponses, jsonBody, jsonContent, listOf, ListQuery } from "../lib/openapi";
import { OrgParams, ProjectParams } from "../lib/params";
import { createRouter } from "../router";
import { CreateProjectBody, ProjectSchema, serializeProject, UpdateProjectBody } from "./schemas";
import { createProject, listProjects, retireProject, updateProject } from "./service";

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
    responses: { 201: jsonContent(ProjectSchema, "Created"), ...errorResponses, ...conflictResponse("The organization has LIMIT_PROJECTS_PER_ORG projects already") },
  }),
  async (c) => {
    const { orgId } = await orgAccess(c, c.req.valid("param").org_id, "project:create");
    const project = await createProject(depsOf(c), auditActor(c), orgId, c.req.valid("json"));
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
    const { orgId } = await orgAccess(c, c.req.valid("param").org_id, "project:read");
    const result = await listProjects(depsOf(c), orgId, c.req.valid("query"));
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
    const access = await projectAccess(c, c.req.valid("param").project_id, "project:read");
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
    const access = await projectAccess(c, c.req.valid("param").project_id, "project:update");
    const project = await updateProject(depsOf(c), auditActor(c), access, c.req.valid("json"));
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
    const access = await projectAccess(c, c.req.valid("param").project_id, "project:delete");
    await retireProject(depsOf(c), auditActor(c), access);
    return c.body(null, 204);
  },
);
