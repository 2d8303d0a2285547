/**
 * Standard Webhooks signing (https://www.standardwebhooks.com): secrets are `whsec_` + base64 of
 * random bytes; the signature is `v1,` + base64 HMAC-SHA256 over `{msg_id}.{timestamp}.{body}`
 * keyed with the base64-decoded part after `whsec_`. During a rotation both secrets sign and the
 * header lists both, space-separated, so receivers holding either one verify.
 */
import { randomBytes } from "../lib/ids";
import { base64ToBytes, bytesToBase64 } from "../lib/base64";

export const WEBHOOK_SECRET_PREFIX = "whsec_";
const SECRET_BYTES = 32;
const encoder = new TextEncoder();

export function generateWebhookSecret(): string {
  return `${WEBHOOK_SECRET_PREFIX}${bytesToBase64(randomBytes(SECRET_BYTES))}`;
}

async function sign(secret: string, content: string): Promise<string> {
  const raw = base64ToBytes(secret.slice(WEBHOOK_SECRET_PREFIX.length));
  const key = await crypto.subtle.importKey("raw", raw, { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  const mac = await crypto.subtle.sign("HMAC", key, encoder.encode(content));
  return `v1,${bytesToBase64(new Uint8Array(mac))}`;
}

/** The three Standard Webhooks headers for one attempt. */
export async function webhookHeaders(secrets: string[], messageId: string, timestampSeconds: number, body: string): Promise<Record<string, string>> {
  const content = `${messageId}.${timestampSeconds}.${body}`;
  const signatures = await Promise.all(secrets.map((s) => sign(s, content)));
  return {
    "webhook-id": messageId,
    "webhook-timestamp": String(timestampSeconds),
    "webhook-signature": signatures.join(" "),
  };
}
