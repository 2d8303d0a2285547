/**
 * The authorization model, in one table a reviewer can read top to bottom.
 *
 * Roles are ordered owner > admin > member > viewer. Each permission names the lowest role that
 * holds it; anything not listed here is denied (deny by default). Every session-authenticated route
 * that takes an org, project, key, member, invitation or webhook id resolves the caller's
 * membership through `authz/access.ts`, which consults this table.
 */
export const ROLES = ["viewer", "member", "admin", "owner"] as const;
export type Role = (typeof ROLES)[number];

export const PERMISSIONS = {
  // Organization
  "org:read": "viewer",
  "org:update": "admin",
  "org:delete": "owner",
  // Projects
  "project:read": "viewer",
  "project:create": "admin",
  "project:update": "admin",
  "project:delete": "admin",
  // API keys: metadata is readable from member up; secrets are only ever shown at creation.
  "key:read": "member",
  "key:write": "admin",
  // Team
  "member:read": "viewer",
  "member:write": "admin",
  "invitation:read": "viewer",
  "invitation:write": "admin",
  /** Granting, revoking or otherwise touching the owner role. */
  "owner:manage": "owner",
  // Audit log
  "audit:read": "viewer",
  // Webhook endpoints (secrets shown once at creation/rotation)
  "webhook:read": "viewer",
  "webhook:write": "admin",
  // Dashboard token minting for testing a room
  "token:create": "member",
  // Rooms and participants (LiveKit's live state) and room sessions (history)
  "room:read": "viewer",
  "room:write": "admin",
  "session:read": "viewer",
  // Egress and ingress records (starting them and changing ingresses stay API-key routes)
  "egress:read": "viewer",
  "egress:stop": "admin",
  "ingress:read": "viewer",
  /** An ingress's stream key lets anyone publish into the room: shown to those who manage ingresses. */
  "ingress:stream_key": "admin",
  // Usage and billing
  "usage:read": "viewer",
  "billing:read": "viewer",
  "plan:change": "owner",
} as const satisfies Record<string, Role>;

export type Permission = keyof typeof PERMISSIONS;

export function roleRank(role: Role): number {
  return ROLES.indexOf(role);
}

export function can(role: Role, permission: Permission): boolean {
  const minimum = PERMISSIONS[permission] as Role | undefined;
  if (!minimum) return false;
  return roleRank(role) >= roleRank(minimum);
}

/** Every role holding `permission`, for guards that re-check a role inside a SQL statement. */
export function rolesWith(permission: Permission): Role[] {
  return ROLES.filter((role) => can(role, permission));
}

/**
 * The permission needed to give someone `role`, or to change or remove someone who holds it.
 * Owners only touch owners; below that, admins manage the team, so an admin can raise anyone up to
 * admin but never to owner. Inviting with a role follows the same rule (`invitation:write` instead
 * of `member:write`).
 */
export function permissionToManage(role: Role, base: "member:write" | "invitation:write" = "member:write"): Permission {
  return role === "owner" ? "owner:manage" : base;
}

/** API key scopes (servers). A key holds a subset; routes name the one they need. */
export const API_KEY_SCOPES = ["tokens:write", "egress:write", "ingress:write", "webhooks:write", "usage:read", "rooms:read", "rooms:write"] as const;
export type ApiKeyScope = (typeof API_KEY_SCOPES)[number];

/** Scopes that include another: a key holding the value also passes a check for the key. */
const IMPLIED_BY: Partial<Record<ApiKeyScope, ApiKeyScope[]>> = { "rooms:read": ["rooms:write"] };

/** True when a key holding `held` may do what `scope` guards. */
export function keyHasScope(held: readonly string[], scope: ApiKeyScope): boolean {
  return held.includes(scope) || (IMPLIED_BY[scope] ?? []).some((s) => held.includes(s));
}
