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

/** Unpadded base64url (RFC 4648 §5), as JWTs use it. */
export function bytesToBase64Url(bytes: Uint8Array): string {
  return btoa(bytesToBinary(bytes)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
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
