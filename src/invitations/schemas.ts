import { z } from "@hono/zod-openapi";
import type { invitations } from "../db/schema";
import { Email } from "../identity/schemas";
import { toIso } from "../lib/clock";
import { MemberSchema, RoleSchema } from "../members/schemas";
import { OrgSchema } from "../orgs/schemas";

export const InvitationSchema = z
  .object({
    id: z.string(),
    org_id: z.string(),
    email: z.string(),
    role: RoleSchema,
    invited_by: z.string().nullable(),
    created_at: z.string(),
    expires_at: z.string(),
  })
  .openapi("Invitation");

export const CreatedInvitationSchema = InvitationSchema.extend({
  token: z.string().openapi({ description: "Shown only in this response; stored hashed." }),
  accept_url: z.string().openapi({ description: "Link for the invitee; carries the token in its fragment." }),
}).openapi("CreatedInvitation");

export function serializeInvitation(i: typeof invitations.$inferSelect) {
  return {
    id: i.id,
    org_id: i.orgId,
    email: i.email,
    role: i.role,
    invited_by: i.invitedBy,
    created_at: toIso(i.createdAt),
    expires_at: toIso(i.expiresAt),
  };
}

export const CreateInvitationBody = z
  .strictObject({
    email: Email,
    role: RoleSchema,
    expires_in_days: z.number().int().min(1).max(30).default(7).openapi({ description: "1..30, default 7" }),
  })
  .openapi("CreateInvitation");

export const AcceptInvitationBody = z.strictObject({ token: z.string().min(1).max(256) }).openapi("AcceptInvitation");

export const AcceptedInvitationSchema = z
  .object({ organization: OrgSchema, member: MemberSchema })
  .openapi("AcceptedInvitation");
