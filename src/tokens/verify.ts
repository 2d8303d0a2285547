/**
 * The tenant's view of a LiveKit token: valid only if it is signed by this deployment, current,
 * a participant token (room join, nothing that reaches outside one room) and for a room of the
 * calling project. Anything else, including garbage, is `{valid: false, reason}`, never an error.
 */
import { errors } from "jose";
import type { Config } from "../config";
import { verifyLivekitJwt, type VideoGrant } from "../livekit/jwt";
import { roomOfProject } from "../livekit/rooms";
import { toIso } from "../lib/clock";
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

function reasonFor(error: unknown): TokenInvalidReason {
  if (error instanceof errors.JWTExpired) return "expired";
  if (error instanceof errors.JWSSignatureVerificationFailed) return "invalid_signature";
  if (error instanceof errors.JWTClaimValidationFailed) {
    if (error.claim === "iss") return "wrong_issuer";
    if (error.claim === "nbf") return "not_yet_valid";
  }
  // Malformed JWS/JWT, a disallowed algorithm, claims of the wrong type…
  return "malformed";
}

const isStringMap = (value: unknown): value is Record<string, string> =>
  typeof value === "object" && value !== null && !Array.isArray(value) && Object.values(value).every((v) => typeof v === "string");

export async function verifyParticipantToken(livekit: Config["livekit"], projectId: string, token: string): Promise<TokenVerification> {
  let payload: Awaited<ReturnType<typeof verifyLivekitJwt>>;
  try {
    payload = await verifyLivekitJwt(livekit, token);
  } catch (error) {
    return invalid(reasonFor(error));
  }
  // Signed by us, so these were shaped by Pulse or by whoever holds the deployment secret; check
  // the shapes anyway rather than trust them.
  const video = payload.video as unknown;
  if (typeof video !== "object" || video === null || Array.isArray(video)) return invalid("not_a_participant_token");
  const grant = video as VideoGrant & Record<string, unknown>;
  if (grant.roomJoin !== true || typeof payload.sub !== "string" || payload.sub === "" || refusedGrantsIn(grant).length > 0) {
    return invalid("not_a_participant_token");
  }
  if (typeof payload.exp !== "number") return invalid("malformed");
  const room = typeof grant.room === "string" ? roomOfProject(grant.room, projectId) : null;
  if (room === null) return invalid("room_not_in_project");
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
