/** The public shapes of ingress: the create request (snake_case, strict) and the record Pulse returns. */
import { z } from "@hono/zod-openapi";
import type { ingresses } from "../db/schema";
import { toIso } from "../lib/clock";
import { MAX_ROOM_NAME_LENGTH } from "../livekit/rooms";

export const INPUT_TYPES = ["rtmp", "whip", "url"] as const;

/** LiveKit's `IngressInput` enum names. */
export const LIVEKIT_INPUT_TYPE = { rtmp: "RTMP_INPUT", whip: "WHIP_INPUT", url: "URL_INPUT" } as const;

export const CreateIngressBody = z
  .strictObject({
    input_type: z.enum(INPUT_TYPES),
    room: z.string().min(1).max(MAX_ROOM_NAME_LENGTH).openapi({ description: "Your own room name (namespaced on the wire)." }),
    participant_identity: z.string().min(1).max(256),
    participant_name: z.string().max(256).optional(),
    participant_metadata: z.string().max(64 * 1024).optional(),
    name: z.string().max(200).optional(),
    url: z
      .url({ protocol: /^(https?|srt)$/ })
      .max(2048)
      .optional()
      .openapi({ description: "The media to pull, for input_type url (http, https or srt)." }),
    enable_transcoding: z.boolean().optional(),
  })
  .refine((b) => (b.input_type === "url") === (b.url !== undefined), {
    message: "url is required for input_type url and not allowed otherwise",
    path: ["url"],
  })
  .openapi("CreateIngress");
export type CreateIngressBody = z.infer<typeof CreateIngressBody>;

/** LiveKit's UpdateIngress leaves a field sent empty as it was, so an update cannot empty one. */
const NOT_EMPTIED = { message: "cannot be emptied (LiveKit keeps a field sent empty); omit it to leave it as it is" };

export const UpdateIngressBody = z
  .strictObject({
    name: z.string().min(1, NOT_EMPTIED).max(200).optional(),
    room: z.string().min(1).max(MAX_ROOM_NAME_LENGTH).optional().openapi({ description: "Your own room name (namespaced on the wire)." }),
    participant_identity: z.string().min(1).max(256).optional(),
    participant_name: z.string().min(1, NOT_EMPTIED).max(256).optional(),
    participant_metadata: z.string().min(1, NOT_EMPTIED).max(64 * 1024).optional(),
    enabled: z.boolean().optional(),
  })
  .openapi("UpdateIngress");
export type UpdateIngressBody = z.infer<typeof UpdateIngressBody>;

export const IngressSchema = z
  .object({
    id: z.string().openapi({ example: "ing_3kT9xYz" }),
    ingress_id: z.string().openapi({ example: "IN_abc123" }),
    input_type: z.enum(INPUT_TYPES),
    name: z.string(),
    room: z.string(),
    participant_identity: z.string(),
    url: z.string().nullable().openapi({ description: "Where to send media (RTMP/WHIP endpoint), or the pulled URL." }),
    stream_key: z.string().nullable().openapi({ description: "The stream key to publish with (rtmp, whip)." }),
    status: z.string().openapi({ description: "LiveKit's state: ENDPOINT_INACTIVE, ENDPOINT_BUFFERING, ENDPOINT_PUBLISHING, ENDPOINT_ERROR, ENDPOINT_COMPLETE" }),
    error: z.string().nullable(),
    started_at: z.string().nullable(),
    ended_at: z.string().nullable(),
    created_at: z.string(),
  })
  .openapi("Ingress");

export function serializeIngress(row: typeof ingresses.$inferSelect, streamKey: string | null) {
  return {
    id: row.id,
    ingress_id: row.ingressId,
    input_type: row.inputType,
    name: row.name,
    room: row.room,
    participant_identity: row.participantIdentity,
    url: row.url,
    stream_key: streamKey,
    status: row.status,
    error: row.error,
    started_at: row.startedAt === null ? null : toIso(row.startedAt),
    ended_at: row.endedAt === null ? null : toIso(row.endedAt),
    created_at: toIso(row.createdAt),
  };
}

export const IngressListQuery = z.object({
  room: z.string().min(1).max(MAX_ROOM_NAME_LENGTH).optional(),
});
