/**
 * Everything Pulse does with secret material lives here: generating secrets, hashing them for
 * storage, comparing in constant time, password hashing, and encrypting the few secrets that
 * must be recoverable (webhook signing secrets).
 */
import { base64ToBytes, bytesToBase64 } from "./base64";
import { base62, randomBytes } from "./ids";

const encoder = new TextEncoder();

const HEX = Array.from({ length: 256 }, (_, b) => b.toString(16).padStart(2, "0"));

function bytesToHex(bytes: Uint8Array): string {
  let out = "";
  for (let i = 0; i < bytes.length; i++) out += HEX[bytes[i]!];
  return out;
}

/** A random secret string: `prefix` + base62 of `bytes` random bytes. */
export function generateSecret(prefix: string, bytes = 32): string {
  return `${prefix}${base62(randomBytes(bytes))}`;
}

/** SHA-256 hex digest. API keys, session tokens and invitation tokens are stored only as this. */
export async function sha256Hex(value: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", encoder.encode(value));
  return bytesToHex(new Uint8Array(digest));
}

/** HMAC-SHA256 of `message` under `key`, hex (the dashboard derives its CSRF tokens this way). */
export async function hmacSha256Hex(key: string, message: string): Promise<string> {
  const cryptoKey = await crypto.subtle.importKey("raw", encoder.encode(key), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  return bytesToHex(new Uint8Array(await crypto.subtle.sign("HMAC", cryptoKey, encoder.encode(message))));
}

/** Constant-time string comparison (length leaks, content does not). */
export function timingSafeEqual(a: string, b: string): boolean {
  const ab = encoder.encode(a);
  const bb = encoder.encode(b);
  const subtle = crypto.subtle as SubtleCrypto & { timingSafeEqual?: (x: ArrayBufferView, y: ArrayBufferView) => boolean };
  if (ab.byteLength !== bb.byteLength) {
    // Still do the work so a length mismatch costs about the same.
    if (subtle.timingSafeEqual) subtle.timingSafeEqual(ab, ab);
    return false;
  }
  if (subtle.timingSafeEqual) return subtle.timingSafeEqual(ab, bb);
  let diff = 0;
  for (let i = 0; i < ab.length; i++) diff |= ab[i]! ^ bb[i]!;
  return diff === 0;
}

// ---------------------------------------------------------------------------------------------
// Passwords: PBKDF2-HMAC-SHA256 through WebCrypto (native, so the Worker's CPU budget goes to the
// KDF rather than to JavaScript). 100,000 iterations is the most workerd allows, which is modest,
// so the password is first keyed with HMAC-SHA256 under PASSWORD_PEPPER, a secret that lives in
// the Worker's secrets and never in D1: a stolen database alone cannot be brute-forced. The
// algorithm and its parameters are stored with each hash:
//   `hmac-pbkdf2-sha256$<iterations>$<salt b64>$<hash b64>`  peppered (every new hash)
//   `pbkdf2-sha256$<iterations>$<salt b64>$<hash b64>`       unpeppered (hashes from before)
// so old hashes still verify and `needsRehash()` tells login to upgrade them.
// ---------------------------------------------------------------------------------------------
export const PASSWORD_ITERATIONS = 100_000;
const PEPPERED_ALGORITHM = "hmac-pbkdf2-sha256";
const LEGACY_ALGORITHM = "pbkdf2-sha256";

async function pbkdf2(secret: Uint8Array, salt: Uint8Array, iterations: number): Promise<Uint8Array> {
  const key = await crypto.subtle.importKey("raw", secret, "PBKDF2", false, ["deriveBits"]);
  const bits = await crypto.subtle.deriveBits({ name: "PBKDF2", hash: "SHA-256", salt, iterations }, key, 256);
  return new Uint8Array(bits);
}

async function hmacSha256(key: string, message: string): Promise<Uint8Array> {
  const hmacKey = await crypto.subtle.importKey("raw", encoder.encode(key), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  return new Uint8Array(await crypto.subtle.sign("HMAC", hmacKey, encoder.encode(message)));
}

export async function hashPassword(password: string, pepper: string): Promise<string> {
  const salt = randomBytes(16);
  const hash = await pbkdf2(await hmacSha256(pepper, password), salt, PASSWORD_ITERATIONS);
  return `${PEPPERED_ALGORITHM}$${PASSWORD_ITERATIONS}$${bytesToBase64(salt)}$${bytesToBase64(hash)}`;
}

export async function verifyPassword(password: string, stored: string, pepper: string): Promise<boolean> {
  const [algorithm, iterationsText, saltB64, hashB64] = stored.split("$");
  const iterations = Number(iterationsText);
  if (!Number.isInteger(iterations) || iterations < 1 || !saltB64 || !hashB64) return false;
  let secret: Uint8Array;
  if (algorithm === PEPPERED_ALGORITHM) secret = await hmacSha256(pepper, password);
  else if (algorithm === LEGACY_ALGORITHM) secret = encoder.encode(password);
  else return false;
  const hash = await pbkdf2(secret, base64ToBytes(saltB64), iterations);
  return timingSafeEqual(bytesToBase64(hash), hashB64);
}

/** True for hashes made before the pepper or with fewer iterations than today's. */
export function needsRehash(stored: string): boolean {
  const [algorithm, iterationsText] = stored.split("$");
  return algorithm !== PEPPERED_ALGORITHM || Number(iterationsText) < PASSWORD_ITERATIONS;
}

/**
 * A hash of a random password nobody knows. Login verifies against it when the email is unknown,
 * so a miss costs the same work (HMAC and KDF) as a wrong password and reveals nothing.
 */
const dummyHashes = new Map<string, Promise<string>>();
export function dummyPasswordHash(pepper: string): Promise<string> {
  let hash = dummyHashes.get(pepper);
  if (!hash) {
    hash = hashPassword(generateSecret("", 16), pepper);
    dummyHashes.set(pepper, hash);
  }
  return hash;
}

// ---------------------------------------------------------------------------------------------
// Encryption at rest for secrets Pulse must use later (webhook signing secrets, LiveKit key
// secrets, ingress stream keys). AES-256-GCM under a keyring: each key has an id, the primary key
// seals, every key opens. The AES key is derived with HKDF from the key's secret. Formats:
//   `v2.<key id>.<iv>.<ct>`  AAD = `pulse:<table>.<column>:<row id>`, so a ciphertext copied to
//                            another row or column does not open
//   `v1.<iv>.<ct>`           before the keyring: no AAD, key id `k0` (PULSE_ENCRYPTION_KEY);
//                            the re-encrypt job (jobs/reencrypt.ts) rewrites these as v2
// ---------------------------------------------------------------------------------------------

/** Key id → secret; `primary` names the key that seals. */
export interface Keyring {
  primary: string;
  keys: ReadonlyMap<string, string>;
}

/** Where a sealed value lives; bound into the ciphertext as additional authenticated data. */
export interface SealedAt {
  table: string;
  column: string;
  rowId: string;
}

/** The key id PULSE_ENCRYPTION_KEY (and every `v1.` ciphertext) has in the keyring. */
export const LEGACY_KEY_ID = "k0";
export const KEY_ID_PATTERN = /^[A-Za-z0-9_-]{1,32}$/;

const keyCache = new Map<string, Promise<CryptoKey>>();

function encryptionKey(masterKey: string): Promise<CryptoKey> {
  let key = keyCache.get(masterKey);
  if (!key) {
    key = (async () => {
      const material = await crypto.subtle.importKey("raw", encoder.encode(masterKey), "HKDF", false, ["deriveKey"]);
      return crypto.subtle.deriveKey(
        { name: "HKDF", hash: "SHA-256", salt: encoder.encode("pulse-at-rest-v1"), info: new Uint8Array() },
        material,
        { name: "AES-GCM", length: 256 },
        false,
        ["encrypt", "decrypt"],
      );
    })();
    keyCache.set(masterKey, key);
  }
  return key;
}

function aad(at: SealedAt): Uint8Array {
  return encoder.encode(`pulse:${at.table}.${at.column}:${at.rowId}`);
}

export async function encryptSecret(plaintext: string, keyring: Keyring, at: SealedAt): Promise<string> {
  const secret = keyring.keys.get(keyring.primary);
  if (secret === undefined) throw new Error("The keyring's primary key is missing");
  const iv = randomBytes(12);
  const ct = await crypto.subtle.encrypt({ name: "AES-GCM", iv, additionalData: aad(at) }, await encryptionKey(secret), encoder.encode(plaintext));
  return `v2.${keyring.primary}.${bytesToBase64(iv)}.${bytesToBase64(new Uint8Array(ct))}`;
}

/** The id of the key that sealed `sealed` (`k0` for the pre-keyring format). */
export function sealedKeyId(sealed: string): string | null {
  const parts = sealed.split(".");
  if (parts[0] === "v1" && parts.length === 3) return LEGACY_KEY_ID;
  if (parts[0] === "v2" && parts.length === 4) return parts[1]!;
  return null;
}

/** Opens `sealed`; throws when it is malformed, its key is not in the ring, or it was sealed for another place. */
export async function decryptSecret(sealed: string, keyring: Keyring, at: SealedAt): Promise<string> {
  const parts = sealed.split(".");
  let keyId: string, ivB64: string | undefined, ctB64: string | undefined, additionalData: Uint8Array | undefined;
  if (parts[0] === "v2" && parts.length === 4) [, keyId, ivB64, ctB64] = parts as [string, string, string, string];
  else if (parts[0] === "v1" && parts.length === 3) [keyId, ivB64, ctB64] = [LEGACY_KEY_ID, parts[1], parts[2]];
  else throw new Error("Unrecognised sealed secret format");
  if (parts[0] === "v2") additionalData = aad(at);
  const secret = keyring.keys.get(keyId);
  if (secret === undefined || !ivB64 || !ctB64) throw new Error(`Sealed secret names key ${keyId}, which is not in the keyring`);
  const pt = await crypto.subtle.decrypt(
    { name: "AES-GCM", iv: base64ToBytes(ivB64), ...(additionalData ? { additionalData } : {}) },
    await encryptionKey(secret),
    base64ToBytes(ctB64),
  );
  return new TextDecoder().decode(pt);
}
