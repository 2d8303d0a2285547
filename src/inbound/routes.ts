/**
 * `POST /v1/livekit/webhook`: LiveKit's own signed events. Unauthenticated in the API sense; the
 * signature is the authentication. Requests with a bad signature are rate limited per IP (fail
 * open: the limiter being down must not cost LiveKit's events); verified ones are not, because a
 * busy deployment legitimately sends far more than a client IP limit from one address, and
 * LiveKit drops events it cannot deliver within ~30 s.
 */
import { createRoute, z } from "@hono/zod-openapi";
import { ApiError, unauthenticated } from "../lib/errors";
import { errorResponses, jsonContent, zodIssuesToError } from "../lib/openapi";
import { createRouter } from "../router";
import { clientIp } from "../middleware/request-context";
import { enforceRateLimit } from "../middleware/rate-limit";
import { LivekitWebhookEventSchema } from "../livekit/webhook-event";
import { receiveLivekitEvent } from "./service";
import { verifyLivekitWebhook } from "./verify";

export const livekitWebhookRoutes = createRouter();

const ReceivedSchema = z.object({ received: z.boolean(), duplicate: z.boolean() }).openapi("LivekitWebhookReceived");

livekitWebhookRoutes.openapi(
  createRoute({
    method: "post",
    path: "/v1/livekit/webhook",
    tags: ["LiveKit"],
    summary: "Receive LiveKit's signed webhook events (Content-Type application/webhook+json, Authorization: <JWT>)",
    responses: {
      200: jsonContent(ReceivedSchema, "Stored (or a replay of an event already stored)"),
      400: errorResponses[400],
      401: errorResponses[401],
      429: errorResponses[429],
    },
  }),
  async (c) => {
    const raw = await c.req.text();
    const config = c.var.config;
    if (!(await verifyLivekitWebhook(config.livekit, c.req.header("Authorization"), raw))) {
      await enforceRateLimit(c, { policy: "livekit-webhook-ip", key: `livekit-webhook:${clientIp(c)}`, limit: config.rateLimits.ipPerMinute, failMode: "open" });
      throw unauthenticated("Missing or invalid LiveKit webhook signature.");
    }
    let json: unknown;
    try {
      json = JSON.parse(raw);
    } catch {
      throw new ApiError("invalid_json", "The request body is not valid JSON.");
    }
    const parsed = LivekitWebhookEventSchema.safeParse(json);
    if (!parsed.success) throw zodIssuesToError(parsed.error);
    const result = await receiveLivekitEvent({ db: c.var.db, queue: c.env.WEBHOOK_QUEUE, logger: c.var.logger }, parsed.data, raw);
    return c.json({ received: true, duplicate: result.duplicate }, 200);
  },
);
