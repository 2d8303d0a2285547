/** Team fixtures built through the public API: invitations sent by an owner and accepted by new users. */
import { env } from "cloudflare:workers";
import { expect } from "vitest";
import { call, freshIp } from "./api";
import { createUser, type TestUser } from "./factories";

export type Role = "owner" | "admin" | "member" | "viewer";

export async function invite(by: TestUser, orgId: string, email: string, role: Role | (string & {}), extra: Record<string, unknown> = {}) {
  return call("POST", `/v1/orgs/${orgId}/invitations`, { token: by.token, body: { email, role, ...extra } });
}

export async function accept(user: TestUser, token: string) {
  return call("POST", "/v1/invitations/accept", { token: user.token, body: { token }, ip: freshIp() });
}

/** A new user who joined `orgId` with `role` by accepting an invitation from `owner`. */
export async function joinOrg(owner: TestUser, orgId: string, role: Role): Promise<TestUser> {
  const user = await createUser();
  const inv = await invite(owner, orgId, user.email, role);
  expect(inv.status, inv.text).toBe(201);
  const res = await accept(user, inv.body.token);
  expect(res.status, res.text).toBe(200);
  return user;
}

export async function membershipRows(orgId: string) {
  const { results } = await env.DB.prepare("SELECT user_id, role FROM memberships WHERE org_id = ? ORDER BY user_id").bind(orgId).all<{
    user_id: string;
    role: Role;
  }>();
  return results;
}

export async function invitationRow(id: string) {
  return env.DB.prepare("SELECT * FROM invitations WHERE id = ?").bind(id).first<Record<string, unknown>>();
}

export async function auditActions(orgId: string, resourceId: string) {
  const { results } = await env.DB.prepare("SELECT action, actor_id, metadata FROM audit_logs WHERE org_id = ? AND resource_id = ? ORDER BY created_at, id")
    .bind(orgId, resourceId)
    .all<{ action: string; actor_id: string | null; metadata: string }>();
  return results;
}

export async function ownerCount(orgId: string) {
  return (await membershipRows(orgId)).filter((m) => m.role === "owner").length;
}
