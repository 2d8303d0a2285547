/**
 * LiveKit access tokens for a tenant's rooms: issuing (quota, mint, metering) and verifying. The
 * same operations serve a project API key (`POST /v1/tokens`) and a signed-in member trying a
 * room from the dashboard (`POST /v1/projects/{id}/tokens`).
 */
import { auditEntry, type AuditActor } from "../audit/record";
import type { Tenant } from "../authz/access";
import { can, type Role } from "../authz/permissions";
import { ApiError } from "../lib/errors";
import { checkQuota } from "../billing/quota";
import type { Deps } from "../deps";
import { countTokenIssued, flushTokenUsage } from "./metering";
import { mintParticipantToken, type TokenRequest } from "./mint";
import { verifyParticipantToken, type TokenVerification } from "./verify";

/** What a new token consumes: refused on a hard-cap plan once either is used up. */
const TOKEN_METERS = ["tokens_issued", "participant_minutes"] as const;

/** Mints a participant token for the tenant's room and meters it (the D1 write happens after the answer). */
export async function issueToken(deps: Pick<Deps, "db" | "config" | "logger" | "background">, tenant: Tenant, request: TokenRequest) {
  const quota = await checkQuota(deps, tenant.orgId, TOKEN_METERS);
  const minted = await mintParticipantToken(deps.config.livekit, tenant.projectId, request);
  countTokenIssued(tenant.projectId, tenant.orgId, { room: minted.room, identity: minted.identity });
  quota.consumed("tokens_issued");
  const flush = flushTokenUsage(deps.db, deps.logger);
  if (flush) deps.background(flush);
  return minted;
}

/**
 * Grants that hand the holder the room powers Pulse reserves for admins (`room:write`): a
 * `room_admin` token may remove, mute and re-permission anyone in the room through LiveKit
 * directly, unaudited, and a `hidden` one may listen unseen.
 */
export const ADMIN_GRANTS = ["room_admin", "hidden"] as const;

/**
 * A signed-in member minting a token from the dashboard (the playground): a person, not a server,
 * obtains a credential for a room, so it is audited (room and identity; never the token). Below
 * admin, the admin-only grants are refused by path (403) rather than handed out.
 */
export async function issueMemberToken(
  deps: Pick<Deps, "db" | "config" | "logger" | "background">,
  access: Tenant & { role: Role },
  actor: AuditActor,
  request: TokenRequest,
) {
  const reserved = ADMIN_GRANTS.filter((grant) => request.grants?.[grant] === true);
  if (reserved.length > 0 && !can(access.role, "room:write")) {
    // `details` belong to validation errors alone: the message names the grants instead.
    const named = reserved.map((grant) => `grants.${grant}`).join(" and ");
    throw new ApiError("forbidden", `Your role cannot mint tokens with ${named}: they give the room powers (removing, muting, hiding) that admins hold.`);
  }
  const tenant: Tenant = { projectId: access.projectId, orgId: access.orgId };
  const minted = await issueToken(deps, tenant, request);
  await auditEntry(deps.db, actor, {
    action: "token.minted",
    resourceType: "room",
    resourceId: minted.room,
    orgId: tenant.orgId,
    projectId: tenant.projectId,
    metadata: { room: minted.room, identity: minted.identity, expires_at: new Date(minted.expiresAt).toISOString() },
  });
  return minted;
}

/** Whether `token` is a current participant token of one of the tenant's rooms, and what it grants. */
export function verifyToken(deps: Pick<Deps, "config">, tenant: Pick<Tenant, "projectId">, token: string): Promise<TokenVerification> {
  return verifyParticipantToken(deps.config.livekit, tenant.projectId, token);
}
