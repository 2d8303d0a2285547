/**
 * `POST /v1/livekit/webhook`: LiveKit's own signed events. Unauthenticated in the API sense; the
 * signature is the authentication (`receiveSignedWebhook`). Requests with a bad signature are rate
 * limited per IP (fail open: the limiter being down must not cost LiveKit's events); verified ones
 * are not, because a busy deployment legitimately sends far more than a client IP limit from one
 * address, and LiveKit drops events it cannot deliver within ~30 s.
 */
import { createRoute, z } from "@hono/zod-openapi";
import { depsOf } from "../deps";
import { errorResponses, jsonContent } from "../lib/openapi";
import { createRouter } from "../router";
import { clientIp } from "../middleware/request-context";
import { receiveSignedWebhook } from "./service";

export const livekitWebhookRoutes = createRouter();

const ReceivedSchema = z.object({ received: z.boolean(), duplicate: z.boolean() }).openapi("LivekitWebhookReceived");

livekitWebhookRoutes.openapi(
  createRoute({
    method: "post",
    path: "/v1/livekit/webhook",
    tags: ["LiveKit"],
    summary: "Receive LiveKit's signed webhook events (Content-Type application/webhook+json, Authorization: <JWT>)",
    responses: {
      200: jsonContent(ReceivedSchema, "Stored and queued for processing (or a replay of an event already stored)"),
      400: errorResponses[400],
      401: errorResponses[401],
      429: errorResponses[429],
    },
  }),
  async (c) => {
    const request = { authorization: c.req.header("Authorization"), rawBody: await c.req.text(), clientIp: clientIp(c) };
    const result = await receiveSignedWebhook({ ...depsOf(c), inboundQueue: c.env.INBOUND_QUEUE }, request);
    return c.json({ received: true, duplicate: result.duplicate }, 200);
  },
);
