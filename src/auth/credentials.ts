/**
 * How each kind of credential is presented and told apart: dashboard sessions are `sess_…`, project
 * API keys `pulse_…` (the contract reserves that prefix), both as `Authorization: Bearer …`.
 */

export const SESSION_TOKEN_PREFIX = "sess_";

/** Any string starting `pulse_` is presented as an API key (the contract's scheme). */
export function looksLikeApiKey(value: string): boolean {
  return value.startsWith("pulse_");
}

/** Bearer token from `Authorization`, or null. */
export function bearerToken(header: string | undefined): string | null {
  if (!header) return null;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return match ? match[1]! : null;
}
