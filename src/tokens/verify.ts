/**
 * The tenant's view of a LiveKit token: valid only if it is signed by this deployment, current,
 * a participant token (room join, nothing that reaches outside one room) and for a room of the
 * calling project. Anything else, including garbage, is `{valid: false, reason}`, never an error.
 */
import type { Config } from "../config";
import { verifyLivekitJwt, type VideoGrant } from "../livekit/jwt";
import { roomOfProject } from "../livekit/rooms";
import { nowMs, toIso } from "../lib/clock";
import { fromVideoGrant, refusedGrantsIn } from "./grants";
import type { TokenInvalidReason } from "./schemas";

export type TokenVerification =
  | { valid: false; reason: TokenInvalidReason }
  | {
      valid: true;
      identity: string;
      room: string;
      name?: string;
      metadata?: string;
      attributes?: Record<string, string>;
      grants: ReturnType<typeof fromVideoGrant>;
      expires_at: string;
    };

const invalid = (reason: TokenInvalidReason): TokenVerification => ({ valid: false, reason });

/** LiveKit's server allows this much clock skew on `nbf` and `exp`. */
const CLOCK_TOLERANCE_SECONDS = 60;

const isStringMap = (value: unknown): value is Record<string, string> =>
  typeof value === "object" && value !== null && !Array.isArray(value) && Object.values(value).every((v) => typeof v === "string");

/**
 * Every token signed by the shared deployment verifies with its secret, including other tenants'.
 * So whatever is not this project's (garbage, another signer or issuer, another project's room,
 * a room-less service token) gets one answer, `invalid`, and that is decided before the clock is
 * looked at: answering "expired" or "not a participant token" would tell a caller that a string is
 * a genuine token of another tenant.
 */
export async function verifyParticipantToken(livekit: Config["livekit"], projectId: string, token: string): Promise<TokenVerification> {
  let payload: Awaited<ReturnType<typeof verifyLivekitJwt>>;
  try {
    // Signature, algorithm and issuer only; the times are judged once the token is known to be ours.
    payload = await verifyLivekitJwt(livekit, token, Number.MAX_SAFE_INTEGER);
  } catch {
    return invalid("invalid");
  }
  // Signed by us, so these were shaped by Pulse or by whoever holds the deployment secret; check
  // the shapes anyway rather than trust them.
  const video = payload.video as unknown;
  const grant = (typeof video === "object" && video !== null && !Array.isArray(video) ? video : {}) as VideoGrant & Record<string, unknown>;
  const room = typeof grant.room === "string" ? roomOfProject(grant.room, projectId) : null;
  if (room === null) return invalid("invalid");

  if (typeof payload.exp !== "number") return invalid("invalid");
  const now = nowMs() / 1000;
  if (payload.exp <= now - CLOCK_TOLERANCE_SECONDS) return invalid("expired");
  if (typeof payload.nbf === "number" && payload.nbf > now + CLOCK_TOLERANCE_SECONDS) return invalid("not_yet_valid");
  if (grant.roomJoin !== true || typeof payload.sub !== "string" || payload.sub === "" || refusedGrantsIn(grant).length > 0) {
    return invalid("not_a_participant_token");
  }
  return {
    valid: true,
    identity: payload.sub,
    room,
    ...(typeof payload.name === "string" ? { name: payload.name } : {}),
    ...(typeof payload.metadata === "string" ? { metadata: payload.metadata } : {}),
    ...(isStringMap(payload.attributes) ? { attributes: payload.attributes } : {}),
    grants: fromVideoGrant(grant),
    expires_at: toIso(payload.exp * 1000),
  };
}
