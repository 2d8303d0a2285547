import type { Context } from "hono";
import { currentUser, orgAccess } from "../auth/caller";
import { auditActor } from "../audit/record";
import type { Permission } from "../authz/permissions";
import type { AppEnv } from "../env";
import type { TeamActor } from "./service";

/**
 * The signed-in caller as a team actor for `orgId`: 404 if they are not a member (other tenants
 * never learn the org exists), 403 if their role lacks `permission`.
 */
export async function teamActor(c: Context<AppEnv>, orgId: string, permission: Permission): Promise<TeamActor> {
  const access = await orgAccess(c, orgId, permission);
  return { userId: currentUser(c).userId, role: access.role, audit: auditActor(c) };
}
