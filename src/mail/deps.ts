/** The mailer's dependencies from a request (routes only; services take `MailDeps`). */
import type { Context } from "hono";
import type { AppEnv } from "../env";
import { durableLimiter } from "../rate-limit/limiter";
import type { MailDeps } from "./mailer";

export function mailDeps(c: Context<AppEnv>): MailDeps {
  return { db: c.var.db, queue: c.env.WEBHOOK_QUEUE, limiter: durableLimiter(c.env.RATE_LIMITER), logger: c.var.logger };
}
