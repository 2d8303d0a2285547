/** Base64 and base64url of bytes, for signatures, JWTs, sealed secrets and opaque cursors. */

/** Chunked so a large input never spreads more arguments into `fromCharCode` than one call takes. */
function bytesToBinary(bytes: Uint8Array): string {
  let binary = "";
  for (let i = 0; i < bytes.length; i += 8192) binary += String.fromCharCode(...bytes.subarray(i, i + 8192));
  return binary;
}

export function bytesToBase64(bytes: Uint8Array): string {
  return btoa(bytesToBinary(bytes));
}

const BASE64URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
/** Two base64url characters for each 12-bit value: three bytes are two look-ups. */
const PAIRS = Array.from({ length: 4096 }, (_, n) => BASE64URL[n >> 6]! + BASE64URL[n & 63]!);

/**
 * Unpadded base64url (RFC 4648 §5), as JWTs use it. Encoded straight from the bytes: every token
 * Pulse mints goes through here twice, and a binary string, `btoa` and three replaces cost about
 * ten times as much.
 */
export function bytesToBase64Url(bytes: Uint8Array): string {
  let out = "";
  const whole = bytes.length - (bytes.length % 3);
  for (let i = 0; i < whole; i += 3) {
    const n = (bytes[i]! << 16) | (bytes[i + 1]! << 8) | bytes[i + 2]!;
    out += PAIRS[n >> 12]! + PAIRS[n & 4095]!;
  }
  const rest = bytes.length - whole;
  if (rest === 1) {
    out += PAIRS[bytes[whole]! << 4]!;
  } else if (rest === 2) {
    const n = (bytes[whole]! << 8) | bytes[whole + 1]!;
    out += PAIRS[n >> 4]! + BASE64URL[(n & 15) << 2]!;
  }
  return out;
}

export function base64ToBytes(b64: string): Uint8Array {
  const binary = atob(b64);
  const out = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) out[i] = binary.charCodeAt(i);
  return out;
}

/** Padded or not (`atob` is forgiving about padding); throws on anything that is not base64url. */
export function base64UrlToBytes(b64url: string): Uint8Array {
  return base64ToBytes(b64url.replace(/-/g, "+").replace(/_/g, "/"));
}
