/**
 * Usage series: `GET /v1/usage` (API key with `usage:read`, the key's project),
 * `GET /v1/projects/{project_id}/usage` and `GET /v1/orgs/{org_id}/usage` (members, `usage:read`).
 */
import { createRoute } from "@hono/zod-openapi";
import { currentApiKey, orgAccess, projectAccess } from "../auth/caller";
import { bearerSecurity, errorResponses, jsonContent } from "../lib/openapi";
import { createRouter } from "../router";
import { usageRange, usageSeries } from "./service";
import { UsageQuery, UsageSchema } from "./schemas";
import { OrgParams, ProjectParams } from "../lib/params";

export const usageRoutes = createRouter();

const tags = ["Usage"];

usageRoutes.openapi(
  createRoute({
    method: "get",
    path: "/v1/usage",
    tags,
    summary: "This API key's project usage, by hour or day",
    security: bearerSecurity,
    request: { query: UsageQuery },
    responses: { 200: jsonContent(UsageSchema, "Usage"), ...errorResponses },
  }),
  async (c) => {
    const { projectId } = currentApiKey(c);
    return c.json(await usageSeries(c.var.db, { projectId }, usageRange(c.req.valid("query"))), 200);
  },
);

usageRoutes.openapi(
  createRoute({
    method: "get",
    path: "/v1/projects/{project_id}/usage",
    tags,
    summary: "A project's usage, by hour or day",
    security: bearerSecurity,
    request: { params: ProjectParams, query: UsageQuery },
    responses: { 200: jsonContent(UsageSchema, "Usage"), ...errorResponses },
  }),
  async (c) => {
    const { project_id } = c.req.valid("param");
    const range = usageRange(c.req.valid("query"));
    await projectAccess(c, project_id, "usage:read");
    return c.json(await usageSeries(c.var.db, { projectId: project_id }, range), 200);
  },
);

usageRoutes.openapi(
  createRoute({
    method: "get",
    path: "/v1/orgs/{org_id}/usage",
    tags,
    summary: "An organization's usage across its projects, by hour or day",
    security: bearerSecurity,
    request: { params: OrgParams, query: UsageQuery },
    responses: { 200: jsonContent(UsageSchema, "Usage"), ...errorResponses },
  }),
  async (c) => {
    const { org_id } = c.req.valid("param");
    const range = usageRange(c.req.valid("query"));
    await orgAccess(c, org_id, "usage:read");
    return c.json(await usageSeries(c.var.db, { orgId: org_id }, range), 200);
  },
);
