/**
 * Prefixed, random, URL-safe identifiers (`org_3kT9…`). 16 random bytes (128 bits) rendered in
 * base62 so ids are opaque, unguessable and safe in paths without escaping.
 */
const ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

export const ID_PREFIX = {
  user: "usr",
  session: "ses",
  org: "org",
  project: "proj",
  apiKey: "key",
  invitation: "inv",
  webhookEndpoint: "whk",
  webhookMessage: "msg",
  webhookAttempt: "dlv",
  egress: "eg",
  ingress: "ing",
  audit: "aud",
  invoice: "in",
  invoiceLine: "il",
  livekitEvent: "lke",
  participantSession: "ps",
  usageEvent: "use",
  request: "req",
} as const;

export type IdKind = keyof typeof ID_PREFIX;

/** Encodes bytes as base62 (big-endian, no padding). */
export function base62(bytes: Uint8Array): string {
  let value = 0n;
  for (const b of bytes) value = (value << 8n) | BigInt(b);
  let out = "";
  while (value > 0n) {
    out = ALPHABET[Number(value % 62n)] + out;
    value /= 62n;
  }
  return out.padStart(Math.ceil((bytes.length * 8) / Math.log2(62)), "0");
}

export function randomBytes(length: number): Uint8Array {
  return crypto.getRandomValues(new Uint8Array(length));
}

export function newId(kind: IdKind): string {
  return `${ID_PREFIX[kind]}_${base62(randomBytes(16))}`;
}
