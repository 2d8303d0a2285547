/**
 * Prefixed, random, URL-safe identifiers (`org_3kT9…`): 22 uniformly random base62 characters
 * (131 bits), so ids are opaque, unguessable and safe in paths without escaping.
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

/**
 * `length` uniformly random base62 characters. Rejection sampling: bytes of 248 and up are
 * skipped, so every character is equally likely (248 = 4 × 62).
 */
export function randomBase62(length: number): string {
  // A few spare bytes cover the 3 % rejected, so one draw almost always suffices.
  const bytes = randomBytes(length + 8);
  let out = "";
  let i = 0;
  while (out.length < length) {
    if (i === bytes.length) {
      crypto.getRandomValues(bytes);
      i = 0;
    }
    const b = bytes[i++]!;
    if (b < 248) out += ALPHABET[b % 62];
  }
  return out;
}

/** Characters in an id after its prefix: 62^22 > 2^130. */
const ID_LENGTH = 22;

/**
 * A new id of `kind`. Drawn as base62 characters directly rather than encoding random bytes (the
 * same alphabet and length as 16 bytes in base62): ids are made several times per request and per
 * LiveKit event, and the long division cost twice as much.
 */
export function newId(kind: IdKind): string {
  return `${ID_PREFIX[kind]}_${randomBase62(ID_LENGTH)}`;
}
