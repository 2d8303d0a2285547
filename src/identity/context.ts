/** Building the account services' dependencies from a request (routes only). */
import type { Context } from "hono";
import { auditActor } from "../audit/record";
import type { AppEnv } from "../env";
import { mailDeps } from "../mail/deps";
import { durableLimiter } from "../rate-limit/limiter";
import type { AccountDeps } from "./deps";

export function accountDeps(c: Context<AppEnv>): AccountDeps {
  return {
    db: c.var.db,
    config: c.var.config,
    limiter: durableLimiter(c.env.RATE_LIMITER),
    mail: mailDeps(c),
    actor: auditActor(c),
  };
}

/** Runs `work` after the response (waitUntil), or inline where there is no execution context. */
export function deferTo(c: Context<AppEnv>): (work: Promise<unknown>) => void {
  return (work) => {
    const guarded = work.catch((error) =>
      c.var.logger.error("deferred_work_failed", { error_message: error instanceof Error ? error.message : String(error) }),
    );
    try {
      c.executionCtx.waitUntil(guarded);
    } catch {
      // No execution context (never in a deployed Worker): the work still runs, unawaited.
    }
  };
}
