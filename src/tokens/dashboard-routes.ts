import { depsOf } from "../deps";
import { createRoute } from "@hono/zod-openapi";
import type { MiddlewareHandler } from "hono";
import { projectAccess } from "../authz/access";
import { enforceQuota } from "../billing/quota";
import type { AppEnv } from "../env";
import { bearerSecurity, createRouter, errorResponses, jsonBody, jsonContent, quotaResponse } from "../lib/openapi";
import { issueToken } from "./issue";
import { CreateTokenBody, TokenResponse } from "./schemas";
import { ProjectParams } from "../lib/params";

/**
 * `POST /v1/projects/{project_id}/tokens`: a signed-in member mints a token from the dashboard to
 * try a room, with the same request, rules, metering and quota as `POST /v1/tokens`.
 */
export const dashboardTokenRoutes = createRouter();

const PATH = "/v1/projects/:project_id/tokens";

// Access first (it sets c.var.orgId), then the quota of that org.
const memberAccess: MiddlewareHandler<AppEnv> = async (c, next) => {
  await projectAccess(c, c.req.param("project_id") ?? "", "token:create");
  await next();
};
dashboardTokenRoutes.on("POST", PATH, memberAccess, enforceQuota("tokens_issued", "participant_minutes"));

dashboardTokenRoutes.openapi(
  createRoute({
    method: "post",
    path: "/v1/projects/{project_id}/tokens",
    tags: ["Tokens"],
    summary: "Mint a LiveKit access token from the dashboard (member)",
    security: bearerSecurity,
    request: { params: ProjectParams, body: jsonBody(CreateTokenBody) },
    responses: { 201: jsonContent(TokenResponse, "Minted"), ...quotaResponse, ...errorResponses },
  }),
  async (c) => {
    const { project_id } = c.req.valid("param");
    return c.json(await issueToken(depsOf(c), { projectId: project_id, orgId: c.var.orgId! }, c.req.valid("json")), 201);
  },
);
