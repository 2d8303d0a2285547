/** Request and response shapes of `/v1/tokens` (contract: "LiveKit access tokens"). */
import { z } from "@hono/zod-openapi";
import { toIso } from "../lib/clock";
import { attributeMap } from "../lib/schemas";
import { MAX_ROOM_NAME_LENGTH } from "../livekit/rooms";
import { MAX_BODY_BYTES } from "../middleware/json-body";
import { PUBLISH_SOURCES, REFUSED_GRANT_NAMES, type RefusedGrantName } from "./grants";

export const MAX_METADATA_BYTES = 64 * 1024;
export const DEFAULT_TTL_SECONDS = 6 * 60 * 60;

const utf8 = new TextEncoder();

/**
 * A refused grant is declared as a field no value passes, so the error names it
 * (`grants.room_create`) and says why instead of zod's generic "Unrecognized key".
 */
const refusedGrant = (name: string) =>
  z
    .unknown()
    .refine(() => false, { error: `'${name}' would reach rooms outside this project on the shared LiveKit deployment; it cannot be granted.` })
    .optional()
    .openapi({ description: "Refused (400): reaches outside the tenant on the shared LiveKit deployment." });

const refusedGrants = Object.fromEntries(REFUSED_GRANT_NAMES.map((name) => [name, refusedGrant(name)])) as {
  [K in RefusedGrantName]: ReturnType<typeof refusedGrant>;
};

export const GrantsBody = z
  .strictObject({
    can_publish: z.boolean().optional().openapi({ description: "Default true." }),
    can_subscribe: z.boolean().optional().openapi({ description: "Default true." }),
    can_publish_data: z.boolean().optional().openapi({ description: "Default: follows can_publish." }),
    can_publish_sources: z.array(z.enum(PUBLISH_SOURCES)).max(PUBLISH_SOURCES.length).optional().openapi({ description: "Empty or absent: any source." }),
    can_update_own_metadata: z.boolean().optional(),
    hidden: z.boolean().optional(),
    room_admin: z.boolean().optional().openapi({ description: "Admin of this one room only." }),
    ...refusedGrants,
  })
  .openapi("TokenGrants");

export const CreateTokenBody = z
  .strictObject({
    identity: z.string().min(1).max(256),
    room: z.string().min(1).max(MAX_ROOM_NAME_LENGTH).openapi({ description: "Your own room name; Pulse namespaces it on LiveKit." }),
    name: z.string().max(256).optional(),
    metadata: z
      .string()
      .refine((s) => utf8.encode(s).byteLength <= MAX_METADATA_BYTES, { error: `Must be at most ${MAX_METADATA_BYTES} bytes (UTF-8)` })
      .optional(),
    attributes: attributeMap(z.string(), z.string()).optional().openapi({ description: "Keys starting `lk.` are reserved by LiveKit and refused." }),
    ttl: z.number().int().min(60).max(86_400).default(DEFAULT_TTL_SECONDS).openapi({ description: "Seconds, 60..86400, default 21600 (6 h)." }),
    grants: GrantsBody.optional(),
  })
  .openapi("CreateToken");

export const TokenResponse = z
  .object({
    token: z.string(),
    url: z.string().openapi({ description: "LiveKit signalling URL to connect to." }),
    room: z.string().openapi({ description: "Your own room name (without the namespace)." }),
    identity: z.string(),
    expires_at: z.string(),
  })
  .openapi("Token");

/** A minted token as the API answers it. */
export function serializeToken(minted: { token: string; url: string; room: string; identity: string; expiresAt: number }) {
  return { token: minted.token, url: minted.url, room: minted.room, identity: minted.identity, expires_at: toIso(minted.expiresAt) };
}

export const VerifyTokenBody = z.strictObject({ token: z.string().min(1).max(MAX_BODY_BYTES) }).openapi("VerifyToken");

/** `invalid`: not a token of this project (garbage, another signer, another project's room). */
export const TOKEN_INVALID_REASONS = ["invalid", "expired", "not_yet_valid", "not_a_participant_token"] as const;
export type TokenInvalidReason = (typeof TOKEN_INVALID_REASONS)[number];

export const VerifyTokenResponse = z
  .object({
    valid: z.boolean(),
    identity: z.string().optional(),
    room: z.string().optional().openapi({ description: "Your own room name (without the namespace)." }),
    name: z.string().optional(),
    metadata: z.string().optional(),
    attributes: z.record(z.string(), z.string()).optional(),
    grants: z
      .object({
        can_publish: z.boolean(),
        can_subscribe: z.boolean(),
        can_publish_data: z.boolean(),
        can_publish_sources: z.array(z.string()).openapi({ description: "Empty: any source." }),
        can_update_own_metadata: z.boolean(),
        hidden: z.boolean(),
        room_admin: z.boolean(),
      })
      .optional()
      .openapi({ description: "Effective grants, LiveKit's defaults applied." }),
    expires_at: z.string().optional(),
    reason: z.enum(TOKEN_INVALID_REASONS).optional(),
  })
  .openapi("TokenVerification");
