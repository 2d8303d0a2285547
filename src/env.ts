/** Typed Worker bindings and the per-request variables (`c.var`) every handler can rely on. */
import type { Context } from "hono";
import type { Config } from "./config";
import type { Database } from "./db/client";
import type { Logger } from "./lib/logger";

export interface Bindings {
  DB: D1Database;
  RATE_LIMITER: DurableObjectNamespace<import("./rate-limit/rate-limiter-do").RateLimiter>;
  WEBHOOK_QUEUE: Queue<unknown>;
  PULSE_ENV?: string;
  LIVEKIT_URL?: string;
  LIVEKIT_API_URL?: string;
  LIVEKIT_API_KEY?: string;
  LIVEKIT_API_SECRET?: string;
  PULSE_ADMIN_TOKEN?: string;
  PULSE_ENCRYPTION_KEY?: string;
  RATE_LIMIT_IP_PER_MIN?: string;
  RATE_LIMIT_PROJECT_PER_MIN?: string;
  CORS_ORIGINS?: string;
  WEBHOOK_ALLOW_PRIVATE_URLS?: string;
  PUBLIC_URL?: string;
  SESSION_TTL_HOURS?: string;
  AUDIT_RETENTION_DAYS?: string;
  WEBHOOK_RETENTION_DAYS?: string;
  PARTICIPANT_SESSION_TIMEOUT_HOURS?: string;
}

/** Who is calling. Set by the auth middlewares; absent on unauthenticated routes. */
export type Caller =
  | { kind: "user"; userId: string; sessionId: string; email: string }
  | { kind: "api_key"; keyId: string; projectId: string; orgId: string; scopes: string[] };

export interface Variables {
  requestId: string;
  config: Config;
  db: Database;
  logger: Logger;
  caller?: Caller;
  /** Known once a route resolves them; the request log line carries them. */
  orgId?: string;
  projectId?: string;
}

export interface AppEnv {
  Bindings: Bindings;
  Variables: Variables;
}

/**
 * What service functions need from the running Worker, passed explicitly so services never see a
 * Hono `Context` (the JSON API and the dashboard call the same functions).
 */
export interface Deps {
  db: Database;
  env: Bindings;
  config: Config;
  logger: Logger;
  /** Work that may finish after the response (LiveKit teardown, usage flushes). */
  waitUntil: (promise: Promise<unknown>) => void;
}

export function depsOf(c: Context<AppEnv>): Deps {
  return {
    db: c.var.db,
    env: c.env,
    config: c.var.config,
    logger: c.var.logger,
    waitUntil: (promise) => c.executionCtx.waitUntil(promise),
  };
}
