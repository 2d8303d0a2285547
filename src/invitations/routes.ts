/**
 * `/v1/orgs/{org_id}/invitations` and `POST /v1/invitations/accept` (session routes; accepting is
 * also limited per client IP before the session is checked, see `auth/table.ts`).
 */
import { createRoute } from "@hono/zod-openapi";
import { currentUser } from "../auth/caller";
import { auditActor } from "../audit/record";
import { bearerSecurity, conflictResponse, errorResponses, jsonBody, jsonContent, listOf, ListQuery } from "../lib/openapi";
import { createRouter } from "../router";
import { depsOf } from "../deps";
import { serializeMember } from "../members/schemas";
import { teamActor } from "../members/actor";
import { serializeOrg } from "../orgs/schemas";
import { AcceptedInvitationSchema, AcceptInvitationBody, CreatedInvitationSchema, CreateInvitationBody, InvitationSchema, serializeInvitation } from "./schemas";
import { acceptInvitation, createInvitation, listPendingInvitations, revokeInvitation } from "./service";
import { acceptUrl } from "./token";
import { InvitationParams, OrgParams } from "../lib/params";

export const invitationRoutes = createRouter();

const tags = ["Invitations"];


invitationRoutes.openapi(
  createRoute({
    method: "post",
    path: "/v1/orgs/{org_id}/invitations",
    tags,
    summary: "Invite someone by email (admin; owners only for the owner role); the token is shown only here",
    description:
      "Re-inviting an address replaces its pending invitation (the caller must be allowed to manage the old one's role too, else 403). Inviting an existing member is 409, and so is an org at LIMIT_PENDING_INVITATIONS_PER_ORG pending invitations.",
    security: bearerSecurity,
    request: { params: OrgParams, body: jsonBody(CreateInvitationBody) },
    responses: { 201: jsonContent(CreatedInvitationSchema, "Created"), ...errorResponses, ...conflictResponse("Already a member") },
  }),
  async (c) => {
    const { org_id } = c.req.valid("param");
    const body = c.req.valid("json");
    const actor = await teamActor(c, org_id, "invitation:write");
    const { invitation, token } = await createInvitation(c.var.db, actor, org_id, body, c.var.config.limits, { deps: depsOf(c), publicUrl: c.var.config.publicUrl });
    return c.json({ ...serializeInvitation(invitation), token, accept_url: acceptUrl(c.var.config.publicUrl, token) }, 201);
  },
);

invitationRoutes.openapi(
  createRoute({
    method: "get",
    path: "/v1/orgs/{org_id}/invitations",
    tags,
    summary: "List pending invitations (not accepted, revoked or expired), newest first",
    security: bearerSecurity,
    request: { params: OrgParams, query: ListQuery },
    responses: { 200: jsonContent(listOf(InvitationSchema), "Pending invitations"), ...errorResponses },
  }),
  async (c) => {
    const { org_id } = c.req.valid("param");
    const { limit, cursor } = c.req.valid("query");
    await teamActor(c, org_id, "invitation:read");
    const result = await listPendingInvitations(c.var.db, org_id, { limit, cursor });
    return c.json({ data: result.rows.map(serializeInvitation), next_cursor: result.nextCursor }, 200);
  },
);

invitationRoutes.openapi(
  createRoute({
    method: "delete",
    path: "/v1/orgs/{org_id}/invitations/{inv_id}",
    tags,
    summary: "Revoke an invitation (admin; owners only for owner invitations); its token stops working",
    security: bearerSecurity,
    request: { params: InvitationParams },
    responses: { 204: { description: "Revoked" }, ...errorResponses, ...conflictResponse("Already accepted") },
  }),
  async (c) => {
    const { org_id, inv_id } = c.req.valid("param");
    const actor = await teamActor(c, org_id, "invitation:write");
    await revokeInvitation(c.var.db, actor, org_id, inv_id);
    return c.body(null, 204);
  },
);

invitationRoutes.openapi(
  createRoute({
    method: "post",
    path: "/v1/invitations/accept",
    tags,
    summary: "Accept an invitation as the signed-in user whose email it was sent to",
    description:
      "404 unknown token; 403 signed in with another email; 409 already used, revoked, expired, or already a member. Refusals change nothing.",
    security: bearerSecurity,
    request: { body: jsonBody(AcceptInvitationBody) },
    responses: { 200: jsonContent(AcceptedInvitationSchema, "Joined"), ...errorResponses, ...conflictResponse("Not usable") },
  }),
  async (c) => {
    const { userId } = currentUser(c);
    const { token } = c.req.valid("json");
    const { org, member } = await acceptInvitation(c.var.db, auditActor(c), userId, token);
    c.set("orgId", org.id);
    return c.json({ organization: serializeOrg(org, member.role), member: serializeMember(member) }, 200);
  },
);
