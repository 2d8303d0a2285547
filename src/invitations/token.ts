/**
 * Invitation tokens: 32 random bytes, shown once in the create response and stored only as their
 * SHA-256 (`invitations.token_hash`), like sessions and API keys. The prefix makes a leaked token
 * recognisable and keeps it apart from session (`sess_`) and API key (`pulse_`) secrets.
 */
import { generateSecret, sha256Hex } from "../lib/secrets";

export const INVITATION_TOKEN_PREFIX = "inv_tok_";

export async function newInvitationToken(): Promise<{ token: string; hash: string }> {
  const token = generateSecret(INVITATION_TOKEN_PREFIX, 32);
  return { token, hash: await sha256Hex(token) };
}

export const hashInvitationToken = sha256Hex;

/**
 * The link sent to the invitee. The token rides in the fragment, which browsers never send to a
 * server, so it stays out of access logs, proxies and Referer headers; the dashboard page reads it
 * and calls `POST /v1/invitations/accept`.
 */
export function acceptUrl(publicUrl: string, token: string): string {
  return `${publicUrl}/invitations/accept#token=${encodeURIComponent(token)}`;
}
