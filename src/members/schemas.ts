import { z } from "@hono/zod-openapi";
import { ROLES, type Role } from "../authz/permissions";
import { toIso } from "../lib/clock";

export const RoleSchema = z.enum(ROLES).openapi({ description: "owner > admin > member > viewer" });

export const MemberSchema = z
  .object({
    user_id: z.string(),
    name: z.string(),
    email: z.string(),
    role: RoleSchema,
    joined_at: z.string(),
    updated_at: z.string(),
  })
  .openapi("Member");

export interface MemberRow {
  userId: string;
  name: string;
  email: string;
  role: Role;
  createdAt: number;
  updatedAt: number;
}

export function serializeMember(m: MemberRow) {
  return {
    user_id: m.userId,
    name: m.name,
    email: m.email,
    role: m.role,
    joined_at: toIso(m.createdAt),
    updated_at: toIso(m.updatedAt),
  };
}
export const UpdateMemberBody = z.strictObject({ role: RoleSchema }).openapi("UpdateMember");
