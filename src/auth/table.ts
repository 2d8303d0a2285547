/**
 * Who may call what, in one table: for every path prefix, the credential it takes. `app.ts` runs
 * `authenticate` once, before any router, so no router authenticates on its own and the order in
 * which routers are mounted means nothing. Protected prefixes authenticate before routing (like
 * Stripe): an unauthenticated request under `/v1/orgs/…` is 401 even for a path that does not
 * exist; an authenticated one gets 404/405.
 *
 * A path no rule covers is public. A test checks that every route in the OpenAPI document is
 * covered by exactly one rule, so a new route cannot become public by omission.
 */
import type { MiddlewareHandler } from "hono";
import type { ApiKeyScope } from "../authz/permissions";
import type { AppEnv } from "../env";
import { rateLimitByIp } from "../middleware/rate-limit";
import { requireAdmin } from "./admin";
import { requireApiKey } from "./api-key";
import { requireSession } from "./session";

export type Credential =
  /** Anyone. */
  | "none"
  /** LiveKit's signed events: the route itself verifies the signature (and limits failures per IP). */
  | "livekit_signature"
  /**
   * LiveKit's Twirp API: a JWT signed with a project's LiveKit key. The Twirp router (mounted ahead
   * of this table's middleware, since it answers in Twirp's format) verifies it and rate-limits the project.
   */
  | "livekit_jwt"
  /** A dashboard session (`sess_…`); sets the user caller. */
  | "session"
  /** A project API key (`pulse_…`), with the project's rate limit; sets the key caller. */
  | "api_key"
  /** The platform operators' `PULSE_ADMIN_TOKEN`. */
  | "platform_admin";

export interface AuthRule {
  /** An exact path, or a prefix ending in `/*` that also covers the prefix itself. */
  path: string;
  credential: Credential;
  /** `api_key` rules: the scope the key must hold (any live key of the project when absent). */
  scope?: ApiKeyScope;
  /** `api_key` rules: the scope GET and HEAD need instead of `scope` (reads of a resource `scope` writes). */
  readScope?: ApiKeyScope;
  /**
   * Counted per client IP (IPv6: per /64) before any credential is looked at, failing closed:
   * these routes create accounts or check secrets a brute force would guess.
   */
  limitByIp?: boolean;
}

export const AUTH_RULES: readonly AuthRule[] = [
  { path: "/health", credential: "none" },
  { path: "/v1/status", credential: "none" },
  { path: "/v1/openapi.json", credential: "none" },
  { path: "/v1/plans", credential: "none", limitByIp: true },
  { path: "/v1/auth/signup", credential: "none", limitByIp: true },
  { path: "/v1/auth/login", credential: "none", limitByIp: true },
  { path: "/v1/auth/verify-email", credential: "none", limitByIp: true },
  { path: "/v1/auth/password/forgot", credential: "none", limitByIp: true },
  { path: "/v1/auth/password/reset", credential: "none", limitByIp: true },
  /** Development only (404 in production); reading it needs nothing but the address. */
  { path: "/v1/dev/mailbox", credential: "none" },
  { path: "/v1/livekit/webhook", credential: "livekit_signature" },
  /** The event catalog: public reference, like the docs it feeds. */
  { path: "/v1/webhook-event-types", credential: "none", limitByIp: true },
  { path: "/twirp/*", credential: "livekit_jwt" },

  { path: "/v1/auth/logout", credential: "session" },
  { path: "/v1/auth/verify-email/resend", credential: "session" },
  { path: "/v1/me/*", credential: "session" },
  { path: "/v1/invitations/accept", credential: "session", limitByIp: true },
  { path: "/v1/orgs/*", credential: "session" },
  { path: "/v1/projects/*", credential: "session" },

  { path: "/v1/api-key", credential: "api_key" },
  { path: "/v1/tokens", credential: "api_key", scope: "tokens:write" },
  { path: "/v1/tokens/verify", credential: "api_key", scope: "tokens:write" },
  { path: "/v1/egress/*", credential: "api_key", scope: "egress:write" },
  { path: "/v1/ingress/*", credential: "api_key", scope: "ingress:write" },
  { path: "/v1/usage", credential: "api_key", scope: "usage:read" },
  { path: "/v1/rooms/*", credential: "api_key", scope: "rooms:write", readScope: "rooms:read" },
  { path: "/v1/sessions/*", credential: "api_key", scope: "usage:read" },
  { path: "/v1/webhooks/*", credential: "api_key", scope: "webhooks:write" },

  { path: "/metrics", credential: "platform_admin" },
  { path: "/v1/admin/*", credential: "platform_admin" },
];

function covers(rule: AuthRule, path: string): boolean {
  if (!rule.path.endsWith("/*")) return path === rule.path;
  const prefix = rule.path.slice(0, -2);
  return path === prefix || path.startsWith(`${prefix}/`);
}

/** The rule covering `path` (rules never overlap), or undefined for a public path. */
export function authRuleFor(path: string): AuthRule | undefined {
  return AUTH_RULES.find((rule) => covers(rule, path));
}

function credentialCheck(rule: AuthRule): MiddlewareHandler<AppEnv> | null {
  switch (rule.credential) {
    case "none":
    case "livekit_signature":
    case "livekit_jwt":
      return null;
    case "session":
      return requireSession;
    case "api_key": {
      const write = requireApiKey(rule.scope);
      if (!rule.readScope) return write;
      const read = requireApiKey(rule.readScope);
      return (c, next) => (c.req.method === "GET" || c.req.method === "HEAD" ? read : write)(c, next);
    }
    case "platform_admin":
      return requireAdmin;
  }
}

/** Runs `checks` in order, then `next`; a check that throws ends the request. */
function inOrder(checks: MiddlewareHandler<AppEnv>[]): MiddlewareHandler<AppEnv> {
  return (c, next) => checks.reduceRight<() => Promise<void>>((rest, check) => async () => void (await check(c, rest)), next)();
}

const CHECKS = new Map(
  AUTH_RULES.map((rule) => {
    const checks = [rule.limitByIp ? rateLimitByIp : null, credentialCheck(rule)].filter((m): m is MiddlewareHandler<AppEnv> => m !== null);
    return [rule, inOrder(checks)];
  }),
);

/** Applies the rule covering the request's path; public paths pass untouched. */
export const authenticate: MiddlewareHandler<AppEnv> = async (c, next) => {
  const rule = authRuleFor(c.req.path);
  if (!rule) return next();
  await CHECKS.get(rule)!(c, next);
};
