/**
 * Reading mail the way a developer does locally: the dev mailbox (`GET /v1/dev/mailbox`, the `log`
 * provider's outbox) and the `token=` of the links in a message.
 */
import { vi } from "vitest";
import { call } from "./api";

export interface DevMail {
  id: string;
  to: string;
  subject: string;
  text: string;
  created_at: string;
}

export async function mailbox(to: string): Promise<DevMail[]> {
  const res = await call("GET", `/v1/dev/mailbox?to=${encodeURIComponent(to)}`);
  if (res.status !== 200) throw new Error(`mailbox failed: ${res.status} ${res.text}`);
  return res.body.data;
}

/** The token a link in `text` carries (`?token=` or `#token=`). */
export function linkToken(text: string, path: string): string {
  const match = new RegExp(`${path.replace(/[/]/g, "\\/")}[?#]token=([^\\s&]+)`).exec(text);
  if (!match) throw new Error(`no ${path} link in: ${text}`);
  return decodeURIComponent(match[1]!);
}

/** Waits for the newest message to `to` whose subject matches, for mail sent after the response. */
export async function waitForMail(to: string, subject: RegExp, opts: { after?: number; count?: number } = {}): Promise<DevMail> {
  let found: DevMail | undefined;
  await vi.waitFor(
    async () => {
      const matching = (await mailbox(to)).filter((m) => subject.test(m.subject));
      if (matching.length < (opts.count ?? 1)) throw new Error(`no mail to ${to} matching ${subject}`);
      found = matching[0];
    },
    { timeout: 5_000, interval: 20 },
  );
  return found!;
}

export async function verificationToken(email: string): Promise<string> {
  const [latest] = (await mailbox(email)).filter((m) => /verify/i.test(m.subject));
  if (!latest) throw new Error(`no verification mail to ${email}`);
  return linkToken(latest.text, "/verify-email");
}
