import { z } from "@hono/zod-openapi";
import type { webhookAttempts, webhookEndpoints, webhookMessages } from "../db/schema";
import { toIso } from "../lib/clock";
import { urlOrigin } from "./delivery";
import { SUBSCRIBABLE_EVENT_TYPES } from "./event-types";
import { MAX_ROOM_PATTERN_LENGTH, MAX_ROOM_PATTERNS } from "./room-filter";
import { MAX_URL_LENGTH } from "./url";

const EventType = z.enum(SUBSCRIBABLE_EVENT_TYPES);
const EventList = z
  .array(EventType)
  .min(1)
  .refine((e) => new Set(e).size === e.length, "Event types must not repeat")
  .openapi({ description: "Event types to receive; omit (or null) for all. `webhook.test` is always sent by the test action, listed or not." });
const Url = z.string().min(1).max(MAX_URL_LENGTH).openapi({ example: "https://example.com/webhooks/pulse" });
const Description = z.string().max(500);
const RoomPatterns = z
  .array(z.string().min(1).max(MAX_ROOM_PATTERN_LENGTH))
  .min(1)
  .max(MAX_ROOM_PATTERNS)
  .refine((p) => new Set(p).size === p.length, "Room patterns must not repeat")
  .openapi({
    description:
      "Room-name globs (your own room names; `*` matches any characters, everything else is exact). Only events about a matching room are sent; events about no room (`webhook.test`, web egress) always are. Omit (or null) for every room.",
    example: ["support-*", "standup"],
  });

const Format = z.enum(["standard", "livekit"]).openapi({
  description: "standard: Standard Webhooks (default). livekit: LiveKit's own WebhookEvent format, signed with `livekit_key_id`, for LiveKit's WebhookReceiver; only LiveKit's events.",
});

export const CreateWebhookBody = z
  .strictObject({
    url: Url,
    events: EventList.optional(),
    description: Description.optional(),
    rooms: RoomPatterns.optional(),
    format: Format.optional(),
    livekit_key_id: z.string().min(1).max(64).optional().openapi({ description: "The project's LiveKit key (`lkk_…`) that signs, for format livekit." }),
  })
  .refine((b) => (b.format === "livekit") === (b.livekit_key_id !== undefined), {
    message: "livekit_key_id is required for format livekit and not allowed otherwise",
    path: ["livekit_key_id"],
  })
  .openapi("CreateWebhookEndpoint");

/**
 * `format` and `livekit_key_id` are fixed at creation: a waiting message's body was written in the
 * endpoint's format, and each attempt signs it that way, so switching means a new endpoint.
 */
export const UpdateWebhookBody = z
  .strictObject({
    url: Url.optional(),
    events: EventList.nullable().optional(),
    description: Description.nullable().optional(),
    rooms: RoomPatterns.nullable().optional(),
    enabled: z.boolean().optional(),
  })
  .refine((b) => Object.keys(b).length > 0, "Send at least one field to change")
  .openapi("UpdateWebhookEndpoint");

export const WebhookEndpointSchema = z
  .object({
    id: z.string(),
    project_id: z.string(),
    url: z.string().openapi({ description: "Whole for admins, owners and API keys; the origin only for members and viewers (URLs often carry a secret)." }),
    description: z.string().nullable(),
    events: z.array(z.string()).nullable(),
    rooms: z.array(z.string()).nullable(),
    enabled: z.boolean(),
    format: Format,
    livekit_key_id: z.string().nullable(),
    disabled_reason: z.string().nullable(),
    failing_since: z.string().nullable(),
    previous_secret_expires_at: z.string().nullable(),
    created_at: z.string(),
    updated_at: z.string(),
  })
  .openapi("WebhookEndpoint");

export const WebhookEndpointWithSecretSchema = WebhookEndpointSchema.extend({
  secret: z.string().openapi({ description: "`whsec_…`, shown only in this response. Store it now." }),
}).openapi("WebhookEndpointWithSecret");

export const AttemptSchema = z
  .object({
    id: z.string(),
    attempt: z.number().int(),
    status_code: z.number().int().nullable(),
    duration_ms: z.number().int(),
    response_body: z.string().nullable().openapi({ description: "The receiver's answer (first 2 KiB); null for members and viewers." }),
    error: z.string().nullable(),
    created_at: z.string(),
  })
  .openapi("WebhookAttempt");

export const MessageSchema = z
  .object({
    id: z.string(),
    endpoint_id: z.string(),
    event_type: z.string(),
    status: z.enum(["pending", "delivered", "failed"]),
    attempt_count: z.number().int(),
    payload: z.unknown(),
    created_at: z.string(),
    last_attempt_at: z.string().nullable(),
    next_attempt_at: z.string().nullable(),
    delivered_at: z.string().nullable(),
    attempts: z.array(AttemptSchema),
  })
  .openapi("WebhookMessage");

export const DeliveriesQuery = z.object({
  limit: z.coerce.number().int().min(1).max(100).default(20),
  cursor: z.string().min(1).max(512).optional(),
  status: z.enum(["pending", "delivered", "failed"]).optional(),
});

const iso = (ms: number | null) => (ms === null ? null : toIso(ms));

/**
 * How much of an endpoint a caller sees: `full` (admins, owners, API keys) gets the whole URL and
 * receivers' answers; `redacted` (members, viewers) the URL's origin and no response bodies, since
 * URLs often carry a secret and answers can echo one.
 */
export type Visibility = "full" | "redacted";

/** The endpoint's room patterns (stored as JSON), or null for every room. */
export function roomPatternsOf(e: Pick<typeof webhookEndpoints.$inferSelect, "rooms">): string[] | null {
  return e.rooms === null ? null : (JSON.parse(e.rooms) as string[]);
}

export function serializeEndpoint(e: typeof webhookEndpoints.$inferSelect, at: number, visibility: Visibility) {
  return {
    id: e.id,
    project_id: e.projectId,
    url: visibility === "full" ? e.url : urlOrigin(e.url),
    description: e.description,
    events: e.events === null ? null : (JSON.parse(e.events) as string[]),
    rooms: roomPatternsOf(e),
    enabled: e.enabled,
    format: e.format,
    livekit_key_id: e.livekitKeyId,
    disabled_reason: e.disabledReason,
    failing_since: iso(e.failingSince),
    previous_secret_expires_at: e.previousSecretExpiresAt !== null && e.previousSecretExpiresAt > at ? toIso(e.previousSecretExpiresAt) : null,
    created_at: toIso(e.createdAt),
    updated_at: toIso(e.updatedAt),
  };
}

export function serializeAttempt(a: typeof webhookAttempts.$inferSelect, visibility: Visibility) {
  return {
    id: a.id,
    attempt: a.attempt,
    status_code: a.statusCode,
    duration_ms: a.durationMs,
    response_body: visibility === "full" ? a.responseBody : null,
    error: a.error,
    created_at: toIso(a.createdAt),
  };
}

export function serializeMessage(m: typeof webhookMessages.$inferSelect, attempts: (typeof webhookAttempts.$inferSelect)[], visibility: Visibility) {
  return {
    id: m.id,
    endpoint_id: m.endpointId,
    event_type: m.eventType,
    status: m.status,
    attempt_count: m.attempts,
    payload: JSON.parse(m.payload) as unknown,
    created_at: toIso(m.createdAt),
    last_attempt_at: iso(m.lastAttemptAt),
    next_attempt_at: m.status === "pending" ? iso(m.nextAttemptAt) : null,
    delivered_at: iso(m.deliveredAt),
    attempts: attempts.map((a) => serializeAttempt(a, visibility)),
  };
}

export const RecoverBody = z
  .strictObject({
    since: z.iso.datetime({ offset: true }).openapi({ description: "Resend failed messages created at or after this time (RFC 3339, in the past).", example: "2026-11-28T00:00:00Z" }),
  })
  .openapi("RecoverWebhookMessages");

export const RecoverSchema = z
  .object({
    endpoint_id: z.string(),
    since: z.string(),
    until: z.string().openapi({ description: "When recovery was asked for: messages failing after it are not included." }),
    queued: z.number().int().openapi({ description: "Failed messages queued again by this request (the first batch)." }),
    more: z.boolean().openapi({ description: "True when the rest continues in batches through the queue." }),
  })
  .openapi("WebhookRecovery");

export const WebhookEventTypeSchema = z
  .object({
    type: z.string(),
    description: z.string(),
    example: z.object({ type: z.string(), timestamp: z.string(), data: z.record(z.string(), z.unknown()) }).openapi({ description: "A whole delivered body." }),
  })
  .openapi("WebhookEventType");
