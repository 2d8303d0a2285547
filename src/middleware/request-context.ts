import type { Context, MiddlewareHandler } from "hono";
import { loadConfig } from "../config";
import { createDb } from "../db/client";
import type { AppEnv } from "../env";
import { newId } from "../lib/ids";
import { holdingSink, logBatchMsOf } from "../lib/held-lines";
import { consoleSink, createLogger, logLevelOf, type LineSink } from "../lib/logger";

const SANE_REQUEST_ID = /^[A-Za-z0-9._:-]{8,128}$/;

/**
 * First middleware: request id, logger and database on `c.var`; nothing here can fail. Only the
 * request id and the logger carrying it are made per request: the database handle and the config
 * are built once per isolate (per binding / env object) and reused.
 */
export const requestContext: MiddlewareHandler<AppEnv> = (c, next) => {
  const incoming = c.req.header("X-Request-Id");
  const requestId = incoming && SANE_REQUEST_ID.test(incoming) ? incoming : newId("request");
  c.set("requestId", requestId);
  c.set("logger", createLogger({ request_id: requestId }, logLevelOf(c.env.LOG_LEVEL), requestSink(c)));
  c.set("db", createDb(c.env.DB));
  return next();
};

/** One call per line, or held lines (`LOG_BATCH_MS`) when the request can keep a window's timer alive. */
function requestSink(c: Context<AppEnv>): LineSink {
  const windowMs = logBatchMsOf(c.env.LOG_BATCH_MS);
  if (windowMs === 0) return consoleSink;
  let ctx: ExecutionContext;
  try {
    ctx = c.executionCtx;
  } catch {
    return consoleSink; // called without an execution context (app.request in a script)
  }
  return holdingSink(windowMs, (work) => ctx.waitUntil(work));
}

/** Validated configuration on `c.var.config`; runs after the log middleware so a bad var is logged. */
export const withConfig: MiddlewareHandler<AppEnv> = (c, next) => {
  c.set("config", loadConfig(c.env));
  return next();
};

/** The client's address as Cloudflare reports it; never a client-supplied X-Forwarded-For. */
export function clientIp(c: Context): string {
  return c.req.header("CF-Connecting-IP") ?? "127.0.0.1";
}

export function userAgent(c: Context): string | null {
  return c.req.header("User-Agent")?.slice(0, 512) ?? null;
}
