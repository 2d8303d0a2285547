import { z } from "@hono/zod-openapi";
import type { webhookAttempts, webhookEndpoints, webhookMessages } from "../db/schema";
import { toIso } from "../lib/clock";
import { WEBHOOK_EVENT_TYPES } from "./event-types";
import { MAX_URL_LENGTH } from "./url";

const EventType = z.enum(WEBHOOK_EVENT_TYPES);
const EventList = z
  .array(EventType)
  .min(1)
  .refine((e) => new Set(e).size === e.length, "Event types must not repeat")
  .openapi({ description: "Event types to receive; omit (or null) for all." });
const Url = z.string().min(1).max(MAX_URL_LENGTH).openapi({ example: "https://example.com/webhooks/pulse" });
const Description = z.string().max(500);

export const CreateWebhookBody = z
  .strictObject({ url: Url, events: EventList.optional(), description: Description.optional() })
  .openapi("CreateWebhookEndpoint");

export const UpdateWebhookBody = z
  .strictObject({
    url: Url.optional(),
    events: EventList.nullable().optional(),
    description: Description.nullable().optional(),
    enabled: z.boolean().optional(),
  })
  .refine((b) => Object.keys(b).length > 0, "Send at least one field to change")
  .openapi("UpdateWebhookEndpoint");

export const WebhookEndpointSchema = z
  .object({
    id: z.string(),
    project_id: z.string(),
    url: z.string(),
    description: z.string().nullable(),
    events: z.array(z.string()).nullable(),
    enabled: z.boolean(),
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
    response_body: z.string().nullable(),
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

export function serializeEndpoint(e: typeof webhookEndpoints.$inferSelect, at: number) {
  return {
    id: e.id,
    project_id: e.projectId,
    url: e.url,
    description: e.description,
    events: e.events === null ? null : (JSON.parse(e.events) as string[]),
    enabled: e.enabled,
    disabled_reason: e.disabledReason,
    failing_since: iso(e.failingSince),
    previous_secret_expires_at: e.previousSecretExpiresAt !== null && e.previousSecretExpiresAt > at ? toIso(e.previousSecretExpiresAt) : null,
    created_at: toIso(e.createdAt),
    updated_at: toIso(e.updatedAt),
  };
}

export function serializeAttempt(a: typeof webhookAttempts.$inferSelect) {
  return {
    id: a.id,
    attempt: a.attempt,
    status_code: a.statusCode,
    duration_ms: a.durationMs,
    response_body: a.responseBody,
    error: a.error,
    created_at: toIso(a.createdAt),
  };
}

export function serializeMessage(m: typeof webhookMessages.$inferSelect, attempts: (typeof webhookAttempts.$inferSelect)[]) {
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
    attempts: attempts.map(serializeAttempt),
  };
}
