/** Minting a participant access token for one tenant's room. */
import type { z } from "@hono/zod-openapi";
import type { Config } from "../config";
import { signLivekitJwt, type LivekitClaims } from "../livekit/jwt";
import { namespacedRoom } from "../livekit/rooms";
import { toVideoGrant } from "./grants";
import type { CreateTokenBody } from "./schemas";

export type TokenRequest = z.infer<typeof CreateTokenBody>;

/**
 * The claims LiveKit reads, for a request already validated by `CreateTokenBody`. The room is
 * always `<projectId>:<room>`: whatever the tenant's string contains, it lands after the caller's
 * own prefix (see `livekit/rooms.ts`).
 */
export function participantClaims(projectId: string, request: TokenRequest): LivekitClaims {
  const claims: LivekitClaims = { sub: request.identity, video: toVideoGrant(namespacedRoom(projectId, request.room), request.grants) };
  if (request.name !== undefined) claims.name = request.name;
  if (request.metadata !== undefined) claims.metadata = request.metadata;
  if (request.attributes !== undefined) claims.attributes = request.attributes;
  return claims;
}

export async function mintParticipantToken(livekit: Config["livekit"], projectId: string, request: TokenRequest) {
  const { token, expiresAt } = await signLivekitJwt(livekit, participantClaims(projectId, request), request.ttl);
  return { token, url: livekit.url, room: request.room, identity: request.identity, expiresAt };
}
