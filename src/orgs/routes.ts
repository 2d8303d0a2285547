import { createRoute } from "@hono/zod-openapi";
import { auditActor } from "../audit/record";
import { orgAccess } from "../authz/access";
import { depsOf } from "../deps";
import { currentUser, requireUser } from "../identity/sessions";
import { OrgParams } from "../lib/params";
import { bearerSecurity, errorResponses, jsonBody, jsonContent, ListQuery, listOf } from "../lib/openapi";
import { createRouter } from "../router";
import { CreateOrgBody, OrgSchema, serializeOrg, UpdateOrgBody } from "./schemas";
import { createOrg, deleteOrg, findOrg, listUserOrgs, renameOrg } from "./service";
export const orgRoutes = createRouter();
// "/v1/orgs/*" also matches "/v1/orgs" itself.
orgRoutes.use("/v1/orgs/*", requireUser);

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
    const org = await createOrg(c.var.db, auditActor(c), userId, name);
    c.set("orgId", org.id);
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
    const result = await listUserOrgs(c.var.db, userId, { limit, cursor });
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
    const org = await findOrg(c.var.db, org_id);
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
    const access = await orgAccess(c, org_id, "org:update");
    const org = await renameOrg(c.var.db, auditActor(c), org_id, name);
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
    await orgAccess(c, org_id, "org:delete");
    await deleteOrg(depsOf(c), auditActor(c), org_id);
    return c.body(null, 204);
  },
);
