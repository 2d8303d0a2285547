/** The public shapes of LiveKit keys: the create body, the listed key, the key with its secret (once). */
import { z } from "@hono/zod-openapi";
import type { livekitKeys } from "../db/schema";
import { toIso } from "../lib/clock";
import { idParam } from "../lib/schemas";

export const CreateLivekitKeyBody = z
  .strictObject({ name: z.string().max(200).optional().openapi({ description: "A label for people; any text." }) })
  .openapi("CreateLivekitKey");

export const LivekitKeySchema = z
  .object({
    id: z.string().openapi({ example: "lkk_3kT9xYz" }),
    project_id: z.string(),
    name: z.string(),
    api_key: z.string().openapi({ example: "APIa1B2c3D4e5F6", description: "The LiveKit API key: the `iss` of the JWTs the SDKs sign." }),
    created_at: z.string(),
  })
  .openapi("LivekitKey");

export const LivekitKeyWithSecretSchema = LivekitKeySchema.extend({
  api_secret: z.string().openapi({ description: "The LiveKit API secret. Shown only in this response: store it now." }),
}).openapi("LivekitKeyWithSecret");

export function serializeLivekitKey(k: typeof livekitKeys.$inferSelect) {
  return { id: k.id, project_id: k.projectId, name: k.name, api_key: k.apiKey, created_at: toIso(k.createdAt) };
}

export const LivekitKeyParams = z.object({
  project_id: idParam("project_id", "proj"),
  lkk_id: idParam("lkk_id", "lkk"),
});
