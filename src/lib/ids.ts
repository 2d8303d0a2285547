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
  livekitKey: "lkk",
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
  roomSession: "rs",
  usageEvent: "use",
  userToken: "utk",
  mail: "mail",
  request: "req",
} as const;

export type IdKind = keyof typeof ID_PREFIX;

/**
 * Encodes bytes as base62 (big-endian, no padding beyond the fixed width). Long division of the
 * byte string by 62, digit by digit, in plain numbers: a request id is made on every request, and
 * BigInt arithmetic cost more than the rest of the id.
 */
export function base62(bytes: Uint8Array): string {
  const digits = Array.from(bytes);
  let out = "";
  let start = 0;
  while (start < digits.length) {
    let remainder = 0;
    for (let i = start; i < digits.length; i++) {
      const value = remainder * 256 + digits[i]!;
      digits[i] = Math.floor(value / 62);
      remainder = value % 62;
    }
    out = ALPHABET[remainder] + out;
    while (start < digits.length && digits[start] === 0) start++;
  }
  return out.padStart(Math.ceil((bytes.length * 8) / Math.log2(62)), "0");
}

export function randomBytes(length: number): Uint8Array {
  return crypto.getRandomValues(new Uint8Array(length));
}

/** `length` uniformly random base62 characters (rejection sampling: no modulo bias). */
export function randomBase62(length: number): string {
  let out = "";
  while (out.length < length) {
    for (const b of randomBytes(length * 2)) {
      if (b < 248 && out.length < length) out += ALPHABET[b % 62];
    }
  }
  return out;
}

export function newId(kind: IdKind): string {
  return `${ID_PREFIX[kind]}_${base62(randomBytes(16))}`;
}
