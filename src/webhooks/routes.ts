/**
 * Tenant webhook endpoints: CRUD, secret rotation, a `webhook.test` send, the delivery log, manual
 * retry and bulk recover, on two surfaces with the same shapes and the same services:
 * `/v1/projects/{project_id}/webhooks…` for signed-in members (viewers read, admins change) and
 * `/v1/webhooks…` for API keys with `webhooks:write` (the key's project; see the authentication
 * table). Members and viewers see endpoint URLs as their origin and no receivers' answers; admins,
 * owners and API keys see them whole. `GET /v1/webhook-event-types` is the event catalog.
 */
import { createRoute, z } from "@hono/zod-openapi";
import type { Context } from "hono";
import { currentApiKey, projectAccess } from "../auth/caller";
import { auditActor } from "../audit/record";
import type { Tenant } from "../authz/access";
import { can } from "../authz/permissions";
import { depsOf } from "../deps";
import type { AppEnv } from "../env";
import { nowMs } from "../lib/clock";
import { bearerSecurity, conflictResponse, errorResponses, jsonBody, jsonContent, listOf, ListQuery } from "../lib/openapi";
import { MessageParams, ProjectParams, WebhookParams } from "../lib/params";
import { rateLimitWebhookSends } from "../middleware/rate-limit";
import { createRouter } from "../router";
import { WEBHOOK_EVENT_CATALOG } from "./event-catalog";
import { recoverFailedMessages } from "./recover";
import {
  CreateWebhookBody,
  DeliveriesQuery,
  MessageSchema,
  RecoverBody,
  RecoverSchema,
  serializeEndpoint,
  serializeMessage,
  UpdateWebhookBody,
  WebhookEndpointSchema,
  WebhookEndpointWithSecretSchema,
  WebhookEventTypeSchema,
  type Visibility,
} from "./schemas";
import {
  createEndpoint,
  deleteEndpoint,
  findEndpoint,
  listDeliveries,
  listEndpoints,
  retryMessage,
  rotateEndpointSecret,
  sendTestEvent,
  updateEndpoint,
} from "./service";

export const webhookRoutes = createRouter();
type Router = typeof webhookRoutes;

type Need = "webhook:read" | "webhook:write";

interface Surface {
  prefix: string;
  params: z.ZodObject;
  tags: string[];
  who: (need: Need) => string;
  /** The project acted in and how much the caller may see, once the caller may do `need`. */
  resolve(c: Context<AppEnv>, need: Need): Promise<{ tenant: Tenant; visibility: Visibility }>;
}

const MEMBERS: Surface = {
  prefix: "/v1/projects/{project_id}/webhooks",
  params: ProjectParams,
  tags: ["Webhooks"],
  who: (need) => (need === "webhook:write" ? "admin" : "viewer"),
  async resolve(c, need) {
    const access = await projectAccess(c, c.req.param("project_id") ?? "", need);
    return { tenant: access, visibility: can(access.role, "webhook:write") ? "full" : "redacted" };
  },
};

const API_KEYS: Surface = {
  prefix: "/v1/webhooks",
  params: z.object({}),
  tags: ["Webhooks (API key)"],
  who: () => "webhooks:write",
  async resolve(c) {
    const key = currentApiKey(c);
    return { tenant: { projectId: key.projectId, orgId: key.orgId }, visibility: "full" };
  },
};

/** Registers every endpoint route under one surface; the handlers are the same for both. */
function register(router: Router, s: Surface) {
  const endpointParams = s.params.extend({ whk_id: WebhookParams.shape.whk_id });
  const messageParams = endpointParams.extend({ msg_id: MessageParams.shape.msg_id });
  const def = (method: "get" | "post" | "patch" | "delete", path: string, need: Need, summary: string, request: object, responses: object) =>
    createRoute({
      method,
      path: `${s.prefix}${path}`,
      tags: s.tags,
      summary: `${summary} (${s.who(need)})`,
      security: bearerSecurity,
      request,
      responses: { ...responses, ...errorResponses },
    });
  // Bodies and queries are validated by the route and read through these; params are read raw.
  const json = <T,>(c: Context<AppEnv>) => (c.req as unknown as { valid(t: "json"): T }).valid("json");
  const query = <T,>(c: Context<AppEnv>) => (c.req as unknown as { valid(t: "query"): T }).valid("query");
  const on = (route: ReturnType<typeof def>, need: Need, handler: (c: Context<AppEnv>, ctx: { tenant: Tenant; visibility: Visibility }) => Promise<Response>) =>
    router.openapi(route, (async (c: Context<AppEnv>) => handler(c, await s.resolve(c, need))) as never);
  const whk = (c: Context<AppEnv>) => c.req.param("whk_id") ?? "";
  const disabled = conflictResponse("The endpoint is disabled");

  const createSummary = "Create a webhook endpoint; the signing secret is shown only in this response";
  on(def("post", "", "webhook:write", createSummary, { params: s.params, body: jsonBody(CreateWebhookBody) }, {
    201: jsonContent(WebhookEndpointWithSecretSchema, "Created"),
    ...conflictResponse("The project is at LIMIT_WEBHOOKS_PER_PROJECT endpoints"),
  }), "webhook:write", async (c, { tenant }) => {
    const { endpoint, secret } = await createEndpoint(depsOf(c), auditActor(c), tenant, json<z.infer<typeof CreateWebhookBody>>(c));
    return c.json({ ...serializeEndpoint(endpoint, nowMs(), "full"), secret }, 201);
  });

  on(def("get", "", "webhook:read", "List the project's webhook endpoints, newest first (never the secrets)", { params: s.params, query: ListQuery }, {
    200: jsonContent(listOf(WebhookEndpointSchema), "Endpoints"),
  }), "webhook:read", async (c, { tenant, visibility }) => {
    const result = await listEndpoints(depsOf(c), tenant.projectId, query<{ limit: number; cursor?: string }>(c));
    const at = nowMs();
    return c.json({ data: result.rows.map((e) => serializeEndpoint(e, at, visibility)), next_cursor: result.nextCursor }, 200);
  });

  on(def("get", "/{whk_id}", "webhook:read", "Read a webhook endpoint", { params: endpointParams }, { 200: jsonContent(WebhookEndpointSchema, "Endpoint") }), "webhook:read", async (c, { tenant, visibility }) =>
    c.json(serializeEndpoint(await findEndpoint(depsOf(c), tenant.projectId, whk(c)), nowMs(), visibility), 200),
  );

  on(def("patch", "/{whk_id}", "webhook:write", "Update a webhook endpoint: url, events, rooms, description, enabled", { params: endpointParams, body: jsonBody(UpdateWebhookBody) }, {
    200: jsonContent(WebhookEndpointSchema, "Updated"),
    ...conflictResponse("Enabling a LiveKit-format endpoint whose LiveKit key was deleted"),
  }), "webhook:write", async (c, { tenant }) => {
    const endpoint = await updateEndpoint(depsOf(c), auditActor(c), tenant, whk(c), json<z.infer<typeof UpdateWebhookBody>>(c));
    return c.json(serializeEndpoint(endpoint, nowMs(), "full"), 200);
  });

  on(def("delete", "/{whk_id}", "webhook:write", "Delete a webhook endpoint; pending deliveries to it are not sent", { params: endpointParams }, { 204: { description: "Deleted" } }), "webhook:write", async (c, { tenant }) => {
    await deleteEndpoint(depsOf(c), auditActor(c), tenant, whk(c));
    return c.body(null, 204);
  });

  on(def("post", "/{whk_id}/rotate-secret", "webhook:write", "Rotate the signing secret; the new one is shown once, the old one keeps signing for 24 h", { params: endpointParams }, {
    201: jsonContent(WebhookEndpointWithSecretSchema, "Rotated"),
  }), "webhook:write", async (c, { tenant }) => {
    const { endpoint, secret } = await rotateEndpointSecret(depsOf(c), auditActor(c), tenant, whk(c));
    return c.json({ ...serializeEndpoint(endpoint, nowMs(), "full"), secret }, 201);
  });

  on(def("post", "/{whk_id}/test", "webhook:write", "Send a `webhook.test` event to this endpoint", { params: endpointParams }, { 202: jsonContent(MessageSchema, "Queued"), ...disabled }), "webhook:write", async (c, { tenant }) => {
    await rateLimitWebhookSends(c, tenant.projectId, whk(c));
    const { message, attempts } = await sendTestEvent(depsOf(c), auditActor(c), tenant, whk(c));
    return c.json(serializeMessage(message, attempts, "full"), 202);
  });

  on(def("get", "/{whk_id}/deliveries", "webhook:read", "The delivery log: messages to this endpoint, newest first, each with every attempt", { params: endpointParams, query: DeliveriesQuery }, {
    200: jsonContent(listOf(MessageSchema), "Deliveries"),
  }), "webhook:read", async (c, { tenant, visibility }) => {
    const result = await listDeliveries(depsOf(c), tenant.projectId, whk(c), query<z.infer<typeof DeliveriesQuery>>(c));
    return c.json({ data: result.rows.map((d) => serializeMessage(d.message, d.attempts, visibility)), next_cursor: result.nextCursor }, 200);
  });

  on(def("post", "/{whk_id}/deliveries/{msg_id}/retry", "webhook:write", "Resend a message now, whatever its status; it keeps its id", { params: messageParams }, {
    202: jsonContent(MessageSchema, "Queued"),
    ...conflictResponse("The endpoint is disabled, or attempts kept landing while the retry was written"),
  }), "webhook:write", async (c, { tenant }) => {
    await rateLimitWebhookSends(c, tenant.projectId, whk(c));
    const { message, attempts } = await retryMessage(depsOf(c), auditActor(c), tenant, whk(c), c.req.param("msg_id") ?? "");
    return c.json(serializeMessage(message, attempts, "full"), 202);
  });

  on(def("post", "/{whk_id}/recover", "webhook:write", "Resend every failed message of this endpoint created since a time, in batches through the queue", { params: endpointParams, body: jsonBody(RecoverBody) }, {
    202: jsonContent(RecoverSchema, "Recovery started"),
    ...disabled,
  }), "webhook:write", async (c, { tenant }) => {
    await rateLimitWebhookSends(c, tenant.projectId, whk(c));
    return c.json(await recoverFailedMessages(depsOf(c), auditActor(c), tenant, whk(c), json<z.infer<typeof RecoverBody>>(c)), 202);
  });
}

register(webhookRoutes, MEMBERS);
register(webhookRoutes, API_KEYS);

webhookRoutes.openapi(
  createRoute({
    method: "get",
    path: "/v1/webhook-event-types",
    tags: ["Webhooks"],
    summary: "Every event type Pulse sends to webhook endpoints, with a description and an example body",
    responses: { 200: jsonContent(listOf(WebhookEventTypeSchema), "Event types"), ...errorResponses },
  }),
  (c) => c.json({ data: [...WEBHOOK_EVENT_CATALOG], next_cursor: null }, 200),
);
