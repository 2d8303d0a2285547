/** What the account services need, passed explicitly (never a Hono context). */
import type { AuditActor } from "../audit/record";
import type { Config } from "../config";
import type { Database } from "../db/client";
import type { MailDeps } from "../mail/mailer";
import type { Limiter } from "../rate-limit/limiter";

export interface AccountDeps {
  db: Database;
  config: Pick<Config, "publicUrl" | "passwordPepper" | "sessionTtlHours">;
  limiter: Limiter;
  mail: MailDeps;
  /** Who is acting (IP, user agent, request id); services set the user id once they know it. */
  actor: AuditActor;
}
