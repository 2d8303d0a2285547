/**
 * The dashboard's request context: who is looking (from the `pulse_session` cookie), the CSP nonce
 * of this response and the CSRF token its forms carry. Set once by `session.ts` for every page.
 */
import type { Context } from "hono";
import { depsOf, type Deps } from "../deps";
import type { AppEnv, Variables } from "../env";

export interface Viewer {
  userId: string;
  sessionId: string;
  email: string;
  name: string;
  emailVerified: boolean;
}

/** A one-time message for the next page, and at most one secret to show exactly once. */
export interface Flash {
  notice?: string;
  error?: string;
  secret?: { label: string; value: string; hint?: string };
}

export interface DashboardEnv {
  Bindings: AppEnv["Bindings"];
  Variables: Variables & {
    nonce: string;
    csrfToken: string;
    viewer: Viewer | null;
    flash: Flash | null;
  };
}

export type DashContext = Context<DashboardEnv>;

/** The API's own context type, for the shared helpers (`auditActor`, `depsOf`) that take it. */
export function asAppContext(c: DashContext): Context<AppEnv> {
  return c as unknown as Context<AppEnv>;
}

/** The services' dependencies, exactly as the API's routes build them. */
export function depsFor(c: DashContext): Deps {
  return depsOf(asAppContext(c));
}
