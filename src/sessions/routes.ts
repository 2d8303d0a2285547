/**
 * Room sessions (history): `GET /v1/sessions…` for API keys with `usage:read`, and
 * `GET /v1/projects/{project_id}/sessions…` for signed-in members (viewer and up).
 */
import { createRoute } from "@hono/zod-openapi";
import { currentApiKey, projectAccess } from "../auth/caller";
import { bearerSecurity, errorResponses, jsonContent, listOf } from "../lib/openapi";
import { createRouter } from "../router";
import { ProjectParams } from "../lib/params";
import { SessionDetailSchema, SessionListQuery, SessionParams, SessionSchema } from "./schemas";
import { getSession, listSessions } from "./service";

export const sessionRoutes = createRouter();

const tags = ["Sessions"];
const list = jsonContent(listOf(SessionSchema), "Room sessions, newest first");
const one = jsonContent(SessionDetailSchema, "The session with its participants");

sessionRoutes.openapi(
  createRoute({
    method: "get",
    path: "/v1/sessions",
    tags,
    summary: "Room sessions of this key's project, newest first (usage:read)",
    security: bearerSecurity,
    request: { query: SessionListQuery },
    responses: { 200: list, ...errorResponses },
  }),
  async (c) => c.json(await listSessions(c.var.db, currentApiKey(c).projectId, c.req.valid("query")), 200),
);

sessionRoutes.openapi(
  createRoute({
    method: "get",
    path: "/v1/sessions/{rs_id}",
    tags,
    summary: "One room session with its participants (usage:read)",
    security: bearerSecurity,
    request: { params: SessionParams },
    responses: { 200: one, ...errorResponses },
  }),
  async (c) => c.json(await getSession(c.var.db, currentApiKey(c).projectId, c.req.valid("param").rs_id), 200),
);

sessionRoutes.openapi(
  createRoute({
    method: "get",
    path: "/v1/projects/{project_id}/sessions",
    tags,
    summary: "A project's room sessions, newest first (viewer)",
    security: bearerSecurity,
    request: { params: ProjectParams, query: SessionListQuery },
    responses: { 200: list, ...errorResponses },
  }),
  async (c) => {
    const { project_id } = c.req.valid("param");
    await projectAccess(c, project_id, "session:read");
    return c.json(await listSessions(c.var.db, project_id, c.req.valid("query")), 200);
  },
);

sessionRoutes.openapi(
  createRoute({
    method: "get",
    path: "/v1/projects/{project_id}/sessions/{rs_id}",
    tags,
    summary: "One room session of a project with its participants (viewer)",
    security: bearerSecurity,
    request: { params: ProjectParams.extend(SessionParams.shape) },
    responses: { 200: one, ...errorResponses },
  }),
  async (c) => {
    const { project_id, rs_id } = c.req.valid("param");
    await projectAccess(c, project_id, "session:read");
    return c.json(await getSession(c.var.db, project_id, rs_id), 200);
  },
);
