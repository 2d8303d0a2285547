/** Typed Worker bindings and the per-request variables (`c.var`) every handler can rely on. */
import type { Config, ConfigVars } from "./config";
import type { Database } from "./db/client";
import type { Logger } from "./lib/logger";
import type { RateLimiterNamespace } from "./rate-limit/service";

/** The Worker's bindings: D1, the limiter, the webhook and inbound queues, and the vars `loadConfig` reads. */
export interface Bindings extends ConfigVars {
  DB: D1Database;
  RATE_LIMITER: RateLimiterNamespace;
  WEBHOOK_QUEUE: Queue<unknown>;
  /** Stored LiveKit events' ids, for the inbound consumer (inbound/consumer.ts). */
  INBOUND_QUEUE: Queue<unknown>;
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
