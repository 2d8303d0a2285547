/**
 * What a handler knows about its caller, read through typed accessors. Authentication runs before
 * any handler (see `table.ts`); an accessor reached without it, or for the wrong kind of caller,
 * is a wiring mistake and fails loudly (500, logged) rather than answering as if nobody called.
 */
import type { Context } from "hono";
import { requireOrgAccess, requireProjectAccess, type OrgAccess, type ProjectAccess } from "../authz/access";
import type { Permission } from "../authz/permissions";
import type { AppEnv, Caller } from "../env";

type Vars = { var: AppEnv["Variables"] };

export type UserCaller = Extract<Caller, { kind: "user" }>;
export type ApiKeyCaller = Extract<Caller, { kind: "api_key" }>;

function callerOf<K extends Caller["kind"]>(c: Vars, kind: K): Extract<Caller, { kind: K }> {
  const caller = c.var.caller;
  if (caller?.kind !== kind) {
    throw new Error(`This route needs a ${kind} caller, but authentication ${caller ? `found a ${caller.kind}` : "did not run"}: check the authentication table.`);
  }
  return caller as Extract<Caller, { kind: K }>;
}

/** The signed-in user (session routes). */
export function currentUser(c: Vars): UserCaller {
  return callerOf(c, "user");
}

/** The project API key making the request, with its project and org (API-key routes). */
export function currentApiKey(c: Vars): ApiKeyCaller {
  return callerOf(c, "api_key");
}

/**
 * The signed-in user's access to `orgId` with `permission` (404 without a membership, 403 below the
 * role); records the org for the request log. Every session route that takes an org id calls it.
 */
export async function orgAccess(c: Context<AppEnv>, orgId: string, permission: Permission): Promise<OrgAccess> {
  const access = await requireOrgAccess(c.var.db, currentUser(c).userId, orgId, permission);
  c.set("orgId", orgId);
  return access;
}

/** The same for a project, whose access also names its org (the tenant services act in). */
export async function projectAccess(c: Context<AppEnv>, projectId: string, permission: Permission): Promise<ProjectAccess> {
  const access = await requireProjectAccess(c.var.db, currentUser(c).userId, projectId, permission);
  c.set("orgId", access.orgId);
  c.set("projectId", projectId);
  return access;
}
