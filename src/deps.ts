/**
 * What services are handed instead of a Hono `Context`: the database, configuration, logger, the
 * bindings they talk to and a way to finish work after the response. An HTTP route builds it with
 * `depsOf(c)`; a queue consumer, cron job or any other caller builds the same object itself.
 */
import type { Context } from "hono";
import type { Config } from "./config";
import type { Database } from "./db/client";
import type { AppEnv, Bindings } from "./env";
import type { Logger } from "./lib/logger";

export interface Deps {
  db: Database;
  config: Config;
  logger: Logger;
  /** The rate limiter's Durable Object namespace (also where key revocations are announced). */
  limiter: Bindings["RATE_LIMITER"];
  /** Outbound webhook deliveries. */
  queue: Bindings["WEBHOOK_QUEUE"];
  /** Work that may finish after the answer was sent (Workers' `waitUntil`). */
  background(work: Promise<unknown>): void;
}

export function depsOf(c: Context<AppEnv>): Deps {
  return {
    db: c.var.db,
    config: c.var.config,
    logger: c.var.logger,
    limiter: c.env.RATE_LIMITER,
    queue: c.env.WEBHOOK_QUEUE,
    background: (work) => c.executionCtx.waitUntil(work),
  };
}
