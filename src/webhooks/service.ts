/**
 * Tenant webhook endpoints: create (secret returned once), list, update, delete, rotate the secret,
 * send a `webhook.test`, read the delivery log and retry a message. Callers resolve the user's
 * access to the project first (`authz/access.ts`); every id is looked up within that project.
 */
import { and, asc, eq, inArray, isNull } from "drizzle-orm";
import { auditEntry, type AuditActor } from "../audit/record";
import type { Database } from "../db/client";
import { webhookAttempts, webhookEndpoints, webhookMessages } from "../db/schema";
import type { Deps } from "../env";
import { nowMs } from "../lib/clock";
import { conflict, notFound, validationFailed } from "../lib/errors";
import { newId } from "../lib/ids";
import { afterCursor, newestFirst, page } from "../lib/pagination";
import { encryptSecret } from "../lib/secrets";
import { urlOrigin } from "./delivery";
import { enqueueDeliveries, singleMessage } from "./messages";
import { generateWebhookSecret } from "./signing";
import { webhookUrlProblem } from "./url";
import type { WebhookEventType } from "./event-types";

/** How long the previous secret keeps signing after a rotation. */
export const ROTATION_OVERLAP_MS = 24 * 3600_000;

export type WebhookEndpoint = typeof webhookEndpoints.$inferSelect;
type Project = { id: string; orgId: string };
type ServiceDeps = Pick<Deps, "db" | "config" | "env">;

export async function findEndpoint(db: Database, projectId: string, endpointId: string): Promise<WebhookEndpoint> {
  const endpoint = await db
    .select()
    .from(webhookEndpoints)
    .where(and(eq(webhookEndpoints.id, endpointId), eq(webhookEndpoints.projectId, projectId), isNull(webhookEndpoints.deletedAt)))
    .get();
  if (!endpoint) throw notFound("Webhook endpoint");
  return endpoint;
}

function checkUrl(deps: ServiceDeps, url: string) {
  const problem = webhookUrlProblem(url, deps.config.webhookAllowPrivateUrls);
  if (problem) throw validationFailed(`Invalid request: url: ${problem}`, [{ path: "url", message: problem }]);
}

export async function createEndpoint(
  deps: ServiceDeps,
  audit: AuditActor,
  project: Project,
  input: { url: string; events?: WebhookEventType[]; description?: string },
) {
  checkUrl(deps, input.url);
  const { db } = deps;
  const at = nowMs();
  const secret = generateWebhookSecret();
  const endpoint: WebhookEndpoint = {
    id: newId("webhookEndpoint"),
    projectId: project.id,
    orgId: project.orgId,
    url: input.url,
    description: input.description ?? null,
    events: input.events ? JSON.stringify(input.events) : null,
    enabled: true,
    disabledReason: null,
    secretEncrypted: await encryptSecret(secret, deps.config.encryptionKey),
    previousSecretEncrypted: null,
    previousSecretExpiresAt: null,
    failingSince: null,
    createdAt: at,
    updatedAt: at,
    deletedAt: null,
  };
  await db.batch([
    db.insert(webhookEndpoints).values(endpoint),
    auditEntry(
      db,
      audit,
      {
        action: "webhook_endpoint.created",
        resourceType: "webhook_endpoint",
        resourceId: endpoint.id,
        orgId: project.orgId,
        projectId: project.id,
        metadata: { url_origin: urlOrigin(input.url), events: input.events ?? null },
      },
      at,
    ),
  ]);
  return { endpoint, secret };
}

export async function listEndpoints(db: Database, projectId: string, opts: { limit: number; cursor?: string }) {
  const rows = await db
    .select()
    .from(webhookEndpoints)
    .where(and(eq(webhookEndpoints.projectId, projectId), isNull(webhookEndpoints.deletedAt), afterCursor(opts.cursor, webhookEndpoints.createdAt, webhookEndpoints.id)))
    .orderBy(...newestFirst(webhookEndpoints.createdAt, webhookEndpoints.id))
    .limit(opts.limit + 1)
    .all();
  return page(rows, opts.limit);
}

export interface EndpointChanges {
  url?: string;
  events?: WebhookEventType[] | null;
  description?: string | null;
  enabled?: boolean;
}

export async function updateEndpoint(deps: ServiceDeps, audit: AuditActor, project: Project, endpointId: string, body: EndpointChanges) {
  const { db } = deps;
  const endpoint = await findEndpoint(db, project.id, endpointId);
  if (body.url !== undefined) checkUrl(deps, body.url);
  const at = nowMs();
  const changes: Partial<typeof webhookEndpoints.$inferInsert> = { updatedAt: at };
  if (body.url !== undefined) changes.url = body.url;
  if (body.events !== undefined) changes.events = body.events === null ? null : JSON.stringify(body.events);
  if (body.description !== undefined) changes.description = body.description;
  if (body.enabled !== undefined && body.enabled !== endpoint.enabled) {
    changes.enabled = body.enabled;
    // Re-enabling starts a fresh health record; disabling by hand says so.
    changes.disabledReason = body.enabled ? null : "Disabled by a user.";
    if (body.enabled) changes.failingSince = null;
  }
  const [updated] = await db.batch([
    db.update(webhookEndpoints).set(changes).where(and(eq(webhookEndpoints.id, endpointId), eq(webhookEndpoints.projectId, project.id))).returning(),
    auditEntry(
      db,
      audit,
      {
        action: "webhook_endpoint.updated",
        resourceType: "webhook_endpoint",
        resourceId: endpointId,
        orgId: project.orgId,
        projectId: project.id,
        metadata: { changed: Object.keys(body), ...body, ...(body.url !== undefined ? { url: undefined, url_origin: urlOrigin(body.url) } : {}) },
      },
      at,
    ),
  ]);
  return updated[0]!;
}

export async function deleteEndpoint(db: Database, audit: AuditActor, project: Project, endpointId: string): Promise<void> {
  const endpoint = await findEndpoint(db, project.id, endpointId);
  const at = nowMs();
  await db.batch([
    db.update(webhookEndpoints).set({ deletedAt: at, enabled: false, updatedAt: at }).where(eq(webhookEndpoints.id, endpointId)),
    auditEntry(
      db,
      audit,
      { action: "webhook_endpoint.deleted", resourceType: "webhook_endpoint", resourceId: endpointId, orgId: project.orgId, projectId: project.id, metadata: { url_origin: urlOrigin(endpoint.url) } },
      at,
    ),
  ]);
}

/** A new signing secret (returned once); the previous one keeps signing for ROTATION_OVERLAP_MS. */
export async function rotateEndpointSecret(deps: ServiceDeps, audit: AuditActor, project: Project, endpointId: string) {
  const { db } = deps;
  const endpoint = await findEndpoint(db, project.id, endpointId);
  const at = nowMs();
  const secret = generateWebhookSecret();
  const [updated] = await db.batch([
    db
      .update(webhookEndpoints)
      .set({
        secretEncrypted: await encryptSecret(secret, deps.config.encryptionKey),
        previousSecretEncrypted: endpoint.secretEncrypted,
        previousSecretExpiresAt: at + ROTATION_OVERLAP_MS,
        updatedAt: at,
      })
      .where(eq(webhookEndpoints.id, endpointId))
      .returning(),
    auditEntry(db, audit, { action: "webhook_endpoint.secret_rotated", resourceType: "webhook_endpoint", resourceId: endpointId, orgId: project.orgId, projectId: project.id }, at),
  ]);
  return { endpoint: updated[0]!, secret };
}

/** Queues a `webhook.test` event to the endpoint; returns the message (no attempts yet). */
export async function sendTestEvent(deps: ServiceDeps, audit: AuditActor, project: Project, endpointId: string) {
  const { db } = deps;
  const endpoint = await findEndpoint(db, project.id, endpointId);
  if (!endpoint.enabled) throw conflict("The endpoint is disabled; enable it before sending a test.");
  const at = nowMs();
  const { row, insert } = singleMessage(
    db,
    project.id,
    endpointId,
    { type: "webhook.test", occurredAt: at, data: { endpoint_id: endpointId, message: "This is a test event from Pulse." } },
    `test:${newId("webhookMessage")}`,
  );
  await db.batch([
    insert,
    auditEntry(
      db,
      audit,
      { action: "webhook_endpoint.tested", resourceType: "webhook_endpoint", resourceId: endpointId, orgId: project.orgId, projectId: project.id, metadata: { message_id: row.id } },
      at,
    ),
  ]);
  await enqueueDeliveries(deps.env.WEBHOOK_QUEUE, [{ message_id: row.id, base_attempts: 0 }]);
  return { ...row, lastAttemptAt: null, deliveredAt: null };
}

export type WebhookMessage = typeof webhookMessages.$inferSelect;
export type WebhookAttempt = typeof webhookAttempts.$inferSelect;

/** The delivery log: messages to the endpoint, newest first, each with its attempts in order. */
export async function listDeliveries(
  db: Database,
  projectId: string,
  endpointId: string,
  opts: { limit: number; cursor?: string; status?: WebhookMessage["status"] },
) {
  await findEndpoint(db, projectId, endpointId);
  const rows = await db
    .select()
    .from(webhookMessages)
    .where(
      and(
        eq(webhookMessages.endpointId, endpointId),
        eq(webhookMessages.projectId, projectId),
        opts.status ? eq(webhookMessages.status, opts.status) : undefined,
        afterCursor(opts.cursor, webhookMessages.createdAt, webhookMessages.id),
      ),
    )
    .orderBy(...newestFirst(webhookMessages.createdAt, webhookMessages.id))
    .limit(opts.limit + 1)
    .all();
  const result = page(rows, opts.limit);
  const ids = result.rows.map((m) => m.id);
  const attempts = ids.length
    ? await db.select().from(webhookAttempts).where(inArray(webhookAttempts.messageId, ids)).orderBy(asc(webhookAttempts.attempt), asc(webhookAttempts.createdAt)).all()
    : [];
  return {
    rows: result.rows.map((message) => ({ message, attempts: attempts.filter((a) => a.messageId === message.id) })),
    nextCursor: result.nextCursor,
  };
}

/** Resends a message now, whatever its status; it keeps its id. */
export async function retryMessage(deps: ServiceDeps, audit: AuditActor, project: Project, endpointId: string, messageId: string) {
  const { db } = deps;
  const endpoint = await findEndpoint(db, project.id, endpointId);
  if (!endpoint.enabled) throw conflict("The endpoint is disabled; enable it before retrying.");
  const message = await db
    .select()
    .from(webhookMessages)
    .where(and(eq(webhookMessages.id, messageId), eq(webhookMessages.endpointId, endpointId), eq(webhookMessages.projectId, project.id)))
    .get();
  if (!message) throw notFound("Message");
  const at = nowMs();
  const [updated] = await db.batch([
    db.update(webhookMessages).set({ status: "pending", nextAttemptAt: at }).where(eq(webhookMessages.id, messageId)).returning(),
    auditEntry(
      db,
      audit,
      { action: "webhook_message.retried", resourceType: "webhook_message", resourceId: messageId, orgId: project.orgId, projectId: project.id, metadata: { endpoint_id: endpointId } },
      at,
    ),
  ]);
  await enqueueDeliveries(deps.env.WEBHOOK_QUEUE, [{ message_id: messageId, base_attempts: message.attempts }]);
  const attempts = await db.select().from(webhookAttempts).where(eq(webhookAttempts.messageId, messageId)).orderBy(asc(webhookAttempts.attempt)).all();
  return { message: updated[0]!, attempts };
}
