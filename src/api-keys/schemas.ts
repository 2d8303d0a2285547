import { z } from "@hono/zod-openapi";
import { API_KEY_SCOPES } from "../authz/permissions";
import type { apiKeys } from "../db/schema";
import { toIso } from "../lib/clock";
import { Name, Timestamp } from "../lib/schemas";

export const Scope = z.enum(API_KEY_SCOPES);

export const ApiKeySchema = z
  .object({
    id: z.string(),
    project_id: z.string(),
    name: z.string(),
    prefix: z.string(),
    scopes: z.array(z.string()),
    created_at: z.string(),
    expires_at: z.string().nullable(),
    revoked_at: z.string().nullable(),
    last_used_at: z.string().nullable(),
  })
  .openapi("ApiKey");

export const ApiKeyWithSecretSchema = ApiKeySchema.extend({
  secret: z.string().openapi({ description: "Shown only in this response. Store it now." }),
}).openapi("ApiKeyWithSecret");

export function serializeApiKey(k: typeof apiKeys.$inferSelect) {
  return {
    id: k.id,
    project_id: k.projectId,
    name: k.name,
    prefix: k.prefix,
    scopes: JSON.parse(k.scopes) as string[],
    created_at: toIso(k.createdAt),
    expires_at: k.expiresAt === null ? null : toIso(k.expiresAt),
    revoked_at: k.revokedAt === null ? null : toIso(k.revokedAt),
    last_used_at: k.lastUsedAt === null ? null : toIso(k.lastUsedAt),
  };
}

export const CreateApiKeyBody = z
  .strictObject({
    name: Name,
    scopes: z
      .array(Scope)
      .min(1)
      .refine((s) => new Set(s).size === s.length, "Scopes must not repeat")
      .optional(),
    expires_at: Timestamp.optional(),
  })
  .openapi("CreateApiKey");
