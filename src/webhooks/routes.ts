/**
 * Tenant webhook endpoints: CRUD, secret rotation, a `webhook.test` send, the delivery log and
 * manual retry. Every handler resolves the caller's role on the project, then calls the service,
 * which looks ids up within that project.
 */
import { createRoute } from "@hono/zod-openapi";
import { projectAccess } from "../auth/caller";
import { auditActor } from "../audit/record";
import { depsOf } from "../deps";
import { nowMs } from "../lib/clock";
import { bearerSecurity, conflictResponse, errorResponses, jsonBody, jsonContent, listOf, ListQuery } from "../lib/openapi";
import { createRouter } from "../router";
import { MessageParams, ProjectParams, WebhookParams } from "../lib/params";
import {
  CreateWebhookBody,
  DeliveriesQuery,
  MessageSchema,
  serializeEndpoint,
  serializeMessage,
  UpdateWebhookBody,
  WebhookEndpointSchema,
  WebhookEndpointWithSecretSchema,
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
const tags = ["Webhooks"];

webhookRoutes.openapi(
  createRoute({
    method: "post",
    path: "/v1/projects/{project_id}/webhooks",
    tags,
    summary: "Create a webhook endpoint (admin); the signing secret is shown only in this response",
    security: bearerSecurity,
    request: { params: ProjectParams, body: jsonBody(CreateWebhookBody) },
    responses: { 201: jsonContent(WebhookEndpointWithSecretSchema, "Created"), ...errorResponses },
  }),
  async (c) => {
    const access = await projectAccess(c, c.req.valid("param").project_id, "webhook:write");
    const { endpoint, secret } = await createEndpoint(depsOf(c), auditActor(c), access, c.req.valid("json"));
    return c.json({ ...serializeEndpoint(endpoint, nowMs()), secret }, 201);
  },
);

webhookRoutes.openapi(
  createRoute({
    method: "get",
    path: "/v1/projects/{project_id}/webhooks",
    tags,
    summary: "List a project's webhook endpoints, newest first (never the secrets)",
    security: bearerSecurity,
    request: { params: ProjectParams, query: ListQuery },
    responses: { 200: jsonContent(listOf(WebhookEndpointSchema), "Endpoints"), ...errorResponses },
  }),
  async (c) => {
    const { projectId } = await projectAccess(c, c.req.valid("param").project_id, "webhook:read");
    const result = await listEndpoints(depsOf(c), projectId, c.req.valid("query"));
    const at = nowMs();
    return c.json({ data: result.rows.map((e) => serializeEndpoint(e, at)), next_cursor: result.nextCursor }, 200);
  },
);

webhookRoutes.openapi(
  createRoute({
    method: "get",
    path: "/v1/projects/{project_id}/webhooks/{whk_id}",
    tags,
    summary: "Read a webhook endpoint",
    security: bearerSecurity,
    request: { params: WebhookParams },
    responses: { 200: jsonContent(WebhookEndpointSchema, "Endpoint"), ...errorResponses },
  }),
  async (c) => {
    const { project_id, whk_id } = c.req.valid("param");
    await projectAccess(c, project_id, "webhook:read");
    return c.json(serializeEndpoint(await findEndpoint(depsOf(c), project_id, whk_id), nowMs()), 200);
  },
);

webhookRoutes.openapi(
  createRoute({
    method: "patch",
    path: "/v1/projects/{project_id}/webhooks/{whk_id}",
    tags,
    summary: "Update a webhook endpoint (admin): url, events, description, enabled",
    security: bearerSecurity,
    request: { params: WebhookParams, body: jsonBody(UpdateWebhookBody) },
    responses: { 200: jsonContent(WebhookEndpointSchema, "Updated"), ...errorResponses },
  }),
  async (c) => {
    const { project_id, whk_id } = c.req.valid("param");
    const access = await projectAccess(c, project_id, "webhook:write");
    const endpoint = await updateEndpoint(depsOf(c), auditActor(c), access, whk_id, c.req.valid("json"));
    return c.json(serializeEndpoint(endpoint, nowMs()), 200);
  },
);

webhookRoutes.openapi(
  createRoute({
    method: "delete",
    path: "/v1/projects/{project_id}/webhooks/{whk_id}",
    tags,
    summary: "Delete a webhook endpoint (admin); pending deliveries to it are not sent",
    security: bearerSecurity,
    request: { params: WebhookParams },
    responses: { 204: { description: "Deleted" }, ...errorResponses },
  }),
  async (c) => {
    const { project_id, whk_id } = c.req.valid("param");
    const access = await projectAccess(c, project_id, "webhook:write");
    await deleteEndpoint(depsOf(c), auditActor(c), access, whk_id);
    return c.body(null, 204);
  },
);

webhookRoutes.openapi(
  createRoute({
    method: "post",
    path: "/v1/projects/{project_id}/webhooks/{whk_id}/rotate-secret",
    tags,
    summary: "Rotate the signing secret (admin); the new one is shown once, the old one keeps signing for 24 h",
    security: bearerSecurity,
    request: { params: WebhookParams },
    responses: { 201: jsonContent(WebhookEndpointWithSecretSchema, "Rotated"), ...errorResponses },
  }),
  async (c) => {
    const { project_id, whk_id } = c.req.valid("param");
    const access = await projectAccess(c, project_id, "webhook:write");
    const { endpoint, secret } = await rotateEndpointSecret(depsOf(c), auditActor(c), access, whk_id);
    return c.json({ ...serializeEndpoint(endpoint, nowMs()), secret }, 201);
  },
);

webhookRoutes.openapi(
  createRoute({
    method: "post",
    path: "/v1/projects/{project_id}/webhooks/{whk_id}/test",
    tags,
    summary: "Send a `webhook.test` event to this endpoint (admin)",
    security: bearerSecurity,
    request: { params: WebhookParams },
    responses: { 202: jsonContent(MessageSchema, "Queued"), ...conflictResponse("The endpoint is disabled"), ...errorResponses },
  }),
  async (c) => {
    const { project_id, whk_id } = c.req.valid("param");
    const access = await projectAccess(c, project_id, "webhook:write");
    const { message, attempts } = await sendTestEvent(depsOf(c), auditActor(c), access, whk_id);
    return c.json(serializeMessage(message, attempts), 202);
  },
);

webhookRoutes.openapi(
  createRoute({
    method: "get",
    path: "/v1/projects/{project_id}/webhooks/{whk_id}/deliveries",
    tags,
    summary: "The delivery log: messages to this endpoint, newest first, each with every attempt",
    security: bearerSecurity,
    request: { params: WebhookParams, query: DeliveriesQuery },
    responses: { 200: jsonContent(listOf(MessageSchema), "Deliveries"), ...errorResponses },
  }),
  async (c) => {
    const { project_id, whk_id } = c.req.valid("param");
    await projectAccess(c, project_id, "webhook:read");
    const result = await listDeliveries(depsOf(c), project_id, whk_id, c.req.valid("query"));
    return c.json({ data: result.rows.map((d) => serializeMessage(d.message, d.attempts)), next_cursor: result.nextCursor }, 200);
  },
);

webhookRoutes.openapi(
  createRoute({
    method: "post",
    path: "/v1/projects/{project_id}/webhooks/{whk_id}/deliveries/{msg_id}/retry",
    tags,
    summary: "Resend a message now (admin), whatever its status; it keeps its id",
    security: bearerSecurity,
    request: { params: MessageParams },
    responses: { 202: jsonContent(MessageSchema, "Queued"), ...conflictResponse("The endpoint is disabled"), ...errorResponses },
  }),
  async (c) => {
    const { project_id, whk_id, msg_id } = c.req.valid("param");
    const access = await projectAccess(c, project_id, "webhook:write");
    const { message, attempts } = await retryMessage(depsOf(c), auditActor(c), access, whk_id, msg_id);
    return c.json(serializeMessage(message, attempts), 202);
  },
);
