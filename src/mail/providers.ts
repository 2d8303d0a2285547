/**
 * Mail providers. `log` only records that a message was "sent" (development: the message stays in
 * the outbox, readable at the dev mailbox). `http` POSTs `{from, to, subject, text}` as JSON to
 * EMAIL_API_URL with `Authorization: Bearer EMAIL_API_KEY`: the lowest common denominator of
 * transactional mail APIs, or a small relay in front of one.
 */
import type { EmailConfig } from "../config";
import type { Logger } from "../lib/logger";

export const MAIL_SEND_TIMEOUT_MS = 10_000;

export interface MailMessage {
  id: string;
  to: string;
  template: string;
  subject: string;
  text: string;
}

/** Resolves when the provider accepted the message; throws with a short reason otherwise. */
export async function sendWithProvider(config: EmailConfig, message: MailMessage, logger: Logger): Promise<void> {
  if (config.provider === "log") {
    // Never the text: it carries single-use tokens.
    logger.info("mail_logged", { mail_id: message.id, template: message.template });
    return;
  }
  let response: Response;
  try {
    response = await fetch(config.apiUrl, {
      method: "POST",
      headers: { "Content-Type": "application/json", Authorization: `Bearer ${config.apiKey}` },
      body: JSON.stringify({ from: config.from, to: message.to, subject: message.subject, text: message.text }),
      redirect: "manual",
      signal: AbortSignal.timeout(MAIL_SEND_TIMEOUT_MS),
    });
  } catch (error) {
    const timedOut = error instanceof Error && (error.name === "TimeoutError" || error.name === "AbortError");
    throw new Error(timedOut ? `timed out after ${MAIL_SEND_TIMEOUT_MS / 1000} s` : "network error");
  }
  await response.body?.cancel().catch(() => undefined);
  if (response.status < 200 || response.status >= 300) throw new Error(`the email API answered ${response.status}`);
}
