/** `/v1/orgs`, `/v1/orgs/{org_id}` and its plan (session routes). */
import { createRoute } from "@hono/zod-openapi";
import { currentUser, orgAccess } from "../auth/caller";
import { auditActor } from "../audit/record";
import { changePlan } from "../billing/service";
import { ChangePlanBody } from "../billing/schemas";
import { depsOf } from "../deps";
import { bearerSecurity, conflictResponse, errorResponses, jsonBody, jsonContent, listOf, ListQuery } from "../lib/openapi";
import { OrgParams } from "../lib/params";
import { createRouter } from "../router";
import { CreateOrgBody, OrgSchema, serializeOrg, UpdateOrgBody } from "./schemas";
import { createOrg, deleteOrg, findOrg, listOrgsOf, renameOrg } from "./service";

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
    responses: { 201: jsonContent(OrgSchema, "Created"), ...errorResponses, ...conflictResponse("You own LIMIT_FREE_ORGS_PER_USER free-plan organizations already") },
  }),
  async (c) => {
    const caller = { userId: currentUser(c).userId, audit: auditActor(c) };
    const org = await createOrg(depsOf(c), caller, c.req.valid("json"));
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
    const result = await listOrgsOf(depsOf(c), currentUser(c).userId, c.req.valid("query"));
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
    const access = await orgAccess(c, c.req.valid("param").org_id, "org:read");
    return c.json(serializeOrg(await findOrg(depsOf(c), access.orgId), access.role), 200);
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
    const access = await orgAccess(c, c.req.valid("param").org_id, "org:update");
    const org = await renameOrg(depsOf(c), auditActor(c), access.orgId, c.req.valid("json"));
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
    const { orgId } = await orgAccess(c, c.req.valid("param").org_id, "org:delete");
    await deleteOrg(depsOf(c), auditActor(c), orgId);
    return c.body(null, 204);
  },
);

orgRoutes.openapi(
  createRoute({
    method: "put",
    path: "/v1/orgs/{org_id}/plan",
    tags: ["Billing"],
    summary: "Switch the organization to another active plan (owner). Takes effect at once; the month is billed per plan, prorated by time.",
    security: bearerSecurity,
    request: { params: OrgParams, body: jsonBody(ChangePlanBody) },
    responses: { 200: jsonContent(OrgSchema, "The organization on its new plan"), ...errorResponses, ...conflictResponse("The plan changed concurrently") },
  }),
  async (c) => {
    const access = await orgAccess(c, c.req.valid("param").org_id, "plan:change");
    const caller = { userId: currentUser(c).userId, audit: auditActor(c) };
    const org = await changePlan(depsOf(c), caller, access.orgId, c.req.valid("json").plan);
    return c.json(serializeOrg(org, access.role), 200);
  },
);
