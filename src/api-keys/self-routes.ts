import { createRoute, z } from "@hono/zod-openapi";
import { eq } from "drizzle-orm";
import { apiKeys } from "../db/schema";
import { notFound } from "../lib/errors";
import { bearerSecurity, errorResponses, jsonContent } from "../lib/openapi";
import { createRouter } from "../router";
import { currentApiKey, requireApiKey } from "./auth";
import { ApiKeySchema, serializeApiKey } from "./schemas";

/** `GET /v1/api-key`: which key is this? Lets a tenant's server check its credentials and scopes. */
export const apiKeySelfRoutes = createRouter();
apiKeySelfRoutes.use("/v1/api-key", requireApiKey());

apiKeySelfRoutes.openapi(
  createRoute({
    method: "get",
    path: "/v1/api-key",
    tags: ["API keys"],
    summary: "Describe the API key making the request (never its secret)",
    security: bearerSecurity,
    responses: { 200: jsonContent(ApiKeySchema.extend({ org_id: z.string() }), "The key"), ...errorResponses },
  }),
  async (c) => {
    const caller = currentApiKey(c);
    const key = await c.var.db.select().from(apiKeys).where(eq(apiKeys.id, caller.keyId)).get();
    if (!key) throw notFound("API key");
    return c.json({ ...serializeApiKey(key), org_id: key.orgId }, 200);
  },
);
