/**
 * Project API key secrets: `pulse_live_` + 32 random bytes in base62 (~190 bits of entropy after
 * the prefix). Only the SHA-256 is stored; `prefix` (the first 16 characters) is kept in the clear
 * so people can recognise a key in lists and logs without it being usable.
 */
import { generateSecret, sha256Hex } from "../lib/secrets";

export const API_KEY_PREFIX = "pulse_live_";
export const VISIBLE_PREFIX_LENGTH = 16;

export async function newApiKeySecret() {
  const secret = generateSecret(API_KEY_PREFIX, 32);
  return { secret, prefix: secret.slice(0, VISIBLE_PREFIX_LENGTH), hash: await sha256Hex(secret) };
}
