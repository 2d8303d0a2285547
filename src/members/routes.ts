/**
 * `/v1/orgs/{org_id}/members`: the team (session routes).
 */
import { createRoute } from "@hono/zod-openapi";
import { currentUser } from "../auth/caller";
import { bearerSecurity, conflictResponse, errorResponses, jsonBody, jsonContent, listOf, ListQuery } from "../lib/openapi";
import { createRouter } from "../router";
import { MemberSchema, serializeMember, UpdateMemberBody } from "./schemas";
import { teamActor } from "./actor";
import { changeMemberRole, listMembers, removeMember } from "./service";
import { MemberParams, OrgParams } from "../lib/params";

export const memberRoutes = createRouter();

const tags = ["Members"];
const teamConflict = conflictResponse("Would leave the organization without an owner, or the team changed meanwhile");

/** Resolves the caller's membership (404 for other tenants, 403 below `permission`). */

memberRoutes.openapi(
  createRoute({
    method: "get",
    path: "/v1/orgs/{org_id}/members",
    tags,
    summary: "List the organization's members, newest first",
    security: bearerSecurity,
    request: { params: OrgParams, query: ListQuery },
    responses: { 200: jsonContent(listOf(MemberSchema), "Members"), ...errorResponses },
  }),
  async (c) => {
    const { org_id } = c.req.valid("param");
    const { limit, cursor } = c.req.valid("query");
    await teamActor(c, org_id, "member:read");
    const result = await listMembers(c.var.db, org_id, { limit, cursor });
    return c.json({ data: result.rows.map(serializeMember), next_cursor: result.nextCursor }, 200);
  },
);

memberRoutes.openapi(
  createRoute({
    method: "patch",
    path: "/v1/orgs/{org_id}/members/{user_id}",
    tags,
    summary: "Change a member's role (admin; owners only for the owner role)",
    security: bearerSecurity,
    request: { params: MemberParams, body: jsonBody(UpdateMemberBody) },
    responses: { 200: jsonContent(MemberSchema, "Updated"), ...errorResponses, ...teamConflict },
  }),
  async (c) => {
    const { org_id, user_id } = c.req.valid("param");
    const { role } = c.req.valid("json");
    const actor = await teamActor(c, org_id, "member:write");
    const member = await changeMemberRole(c.var.db, actor, org_id, user_id, role);
    return c.json(serializeMember(member), 200);
  },
);

memberRoutes.openapi(
  createRoute({
    method: "delete",
    path: "/v1/orgs/{org_id}/members/{user_id}",
    tags,
    summary: "Remove a member (admin; owners only for owners), or leave (any member, for themself)",
    description: "Access ends at once: every request re-reads the caller's membership. The last owner cannot leave or be removed (409).",
    security: bearerSecurity,
    request: { params: MemberParams },
    responses: { 204: { description: "Removed" }, ...errorResponses, ...teamConflict },
  }),
  async (c) => {
    const { org_id, user_id } = c.req.valid("param");
    // Any member may leave; removing someone else needs more, which removeMember() checks.
    const actor = await teamActor(c, org_id, user_id === currentUser(c).userId ? "member:read" : "member:write");
    await removeMember(c.var.db, actor, org_id, user_id);
    return c.body(null, 204);
  },
);
