/**
 * What services use to send mail: `stageMail` checks the address's throttle and returns the
 * outbox row to put in the caller's batch; `sendStaged` hands committed rows to the queue.
 *
 * Throttle: at most MAIL_PER_ADDRESS mails to one address per MAIL_WINDOW_MS, counted exactly in
 * the rate-limiter Durable Object under a hash of the normalized address (no address in the key).
 * It bounds what anyone can make Pulse send to a stranger's inbox through forgot-password,
 * resend-verification or invitations. When the limiter cannot be asked, nothing is sent. A mail
 * whose batch did not write it (a signup refused for its email, an invitation at its cap) gives
 * its slot back (`unstageMail`), so refused requests cannot use up someone's mails.
 */
import type { SQL } from "drizzle-orm";
import type { BatchItem } from "../db/client";
import type { Deps } from "../deps";
import { normalizeEmail } from "../lib/email";
import { sha256Hex } from "../lib/secrets";
import { hitWindow, releaseHit } from "../rate-limit/limiter";
import { enqueueMail, outboxInsert, type OutgoingMail } from "./outbox";
import { errorMessage } from "../lib/logger";

export const MAIL_PER_ADDRESS = 5;
export const MAIL_WINDOW_MS = 15 * 60_000;

export type MailDeps = Pick<Deps, "db" | "queue" | "limiter" | "logger">;

export type StagedMail =
  | { ok: true; id: string; insert: BatchItem; slot: { key: string; at?: number } }
  | { ok: false; retryAfterMs: number };

/** Counts `mail` against its address's throttle and, when admitted, builds its outbox row (see `outboxInsert` for `when`). */
export async function stageMail(deps: MailDeps, mail: OutgoingMail, at?: number, when?: SQL): Promise<StagedMail> {
  const key = `mail:${await sha256Hex(normalizeEmail(mail.to))}`;
  let slotAt: number | undefined;
  try {
    const decision = await hitWindow(deps.limiter, key, MAIL_PER_ADDRESS, MAIL_WINDOW_MS);
    if (!decision.allowed) {
      deps.logger.warn("mail_throttled", { template: mail.template });
      return { ok: false, retryAfterMs: decision.resetMs };
    }
    slotAt = decision.at;
  } catch (error) {
    deps.logger.error("rate_limiter_unavailable", { policy: "mail", fail_mode: "closed", error_message: errorMessage(error) });
    return { ok: false, retryAfterMs: 5_000 };
  }
  return { ok: true, ...outboxInsert(deps.db, mail, at, when), slot: { key, at: slotAt } };
}

/** Gives back the throttle slots of staged mails their batch did not write. Best effort: a slot not given back only makes the throttle a little stricter. */
export async function unstageMail(deps: MailDeps, staged: StagedMail[]): Promise<void> {
  await Promise.all(
    staged.map((s) => (s.ok && s.slot.at !== undefined ? releaseHit(deps.limiter, s.slot.key, s.slot.at).catch(() => undefined) : undefined)),
  );
}

/** After the batch holding the rows committed. A lost send is retried by the cron, so it only logs. */
export async function sendStaged(deps: MailDeps, staged: StagedMail[]): Promise<void> {
  const ids = staged.flatMap((s) => (s.ok ? [s.id] : []));
  try {
    await enqueueMail(deps.queue, ids);
  } catch (error) {
    deps.logger.error("mail_enqueue_failed", { mail_ids: ids, error_message: errorMessage(error) });
  }
}
