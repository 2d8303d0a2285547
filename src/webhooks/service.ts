/**
 * Tenant webhook endpoints and their messages: create, change, delete, rotate the signing secret,
 * send a `webhook.test`, read the delivery log and resend a message. Every operation works inside
 * one project (the caller has been authorized for it) and writes its audit entry in the same batch
 * as the change.
 */
import { and, asc, count, eq, inArray, isNull, type SQL } from "drizzle-orm";
import type { AuditActor } from "../audit/record";
import { auditEntry, auditEntryWhen } from "../audit/record";
import { belowCap, capReached, insertWhen, rowsMatch, rowWritten } from "../db/count-cap";
import { tenantOf, type Tenant } from "../authz/access";
import { livekitKeys, webhookAttempts, webhookEndpoints, webhookMessages } from "../db/schema";
import type { Deps } from "../deps";
import { nowMs } from "../lib/clock";
import { conflict, notFound, validationFailed } from "../lib/errors";
import { newId } from "../lib/ids";
import { newestFirstPage, type PageRequest } from "../lib/pagination";
import { decryptSecret, encryptSecret } from "../lib/secrets";
import { sealedAt } from "../db/sealed";
import { urlOrigin } from "./delivery";
import { TEST_EVENT_TYPE } from "./event-types";
import { enqueueDeliveries, singleMessage } from "./messages";
import { LIVEKIT_TEST_ROOM, livekitTestBody } from "./livekit-format";
import { livekitKeyPair } from "../livekit-keys/service";
import { generateWebhookSecret } from "./signing";
import { webhookUrlProblem } from "./url";
import { assertPublicDestinations, destinationPolicy } from "../lib/private-address";

/** How long the previous secret keeps signing after a rotation. */
export const ROTATION_OVERLAP_MS = 24 * 3600_000;

type Endpoint = typeof webhookEndpoints.$inferSelect;
type Message = typeof webhookMessages.$inferSelect;
type Attempt = typeof webhookAttempts.$inferSelect;

export interface EndpointInput {
  url: string;
  events?: string[];
  description?: string;
  /** Room-name globs (see room-filter.ts); absent for every room. */
  rooms?: string[];
  format?: "standard" | "livekit";
  /** Required for (and only for) the `livekit` format: the project's LiveKit key that signs. */
  livekit_key_id?: string;
}

export interface EndpointChanges {
  url?: string;
  events?: string[] | null;
  description?: string | null;
  rooms?: string[] | null;
  enabled?: boolean;
}

/** The project's live endpoint; another project's, a deleted or no endpoint is 404. */
export async function findEndpoint(deps: Pick<Deps, "db">, projectId: string, endpointId: string): Promise<Endpoint> {
  const endpoint = await deps.db
    .select()
    .from(webhookEndpoints)
    .where(and(eq(webhookEndpoints.id, endpointId), eq(webhookEndpoints.projectId, projectId), isNull(webhookEndpoints.deletedAt)))
    .get();
  if (!endpoint) throw notFound("Webhook endpoint");
  return endpoint;
}

/**
 * The endpoint, still live in the project: the WHERE of every change to it, and (`rowsMatch`) the
 * guard of that change's audit entry, placed before it in the same batch. The endpoint was found
 * live before the batch; one deleted meanwhile is neither changed nor audited.
 */
function liveEndpoint(projectId: string, endpointId: string): SQL {
  return and(eq(webhookEndpoints.id, endpointId), eq(webhookEndpoints.projectId, projectId), isNull(webhookEndpoints.deletedAt))!;
}

async function assertDeliverableUrl(deps: Pick<Deps, "config">, url: string) {
  const problem = webhookUrlProblem(url, deps.config.webhookAllowPrivateUrls);
  if (problem) throw validationFailed(`Invalid request: url: ${problem}`, [{ path: "url", message: problem }]);
  // A public-looking name may resolve to a private address: resolved where private URLs are refused.
  await assertPublicDestinations([{ path: "url", url }], destinationPolicy(deps.config));
}

/** True (as SQL) while the project's LiveKit key `keyId` is live: the guard of a write that will sign with it. */
function livekitKeyLive(projectId: string, keyId: string): SQL {
  return rowsMatch(livekitKeys, and(eq(livekitKeys.id, keyId), eq(livekitKeys.projectId, projectId), isNull(livekitKeys.deletedAt))!);
}

const NO_SUCH_LIVEKIT_KEY = "No such LiveKit key in this project";
const noSuchLivekitKey = () => validationFailed(`Invalid request: livekit_key_id: ${NO_SUCH_LIVEKIT_KEY}`, [{ path: "livekit_key_id", message: NO_SUCH_LIVEKIT_KEY }]);

/**
 * At most LIMIT_WEBHOOKS_PER_PROJECT live endpoints per project, counted inside the INSERT. A
 * LiveKit-format endpoint's key is checked inside it too: one deleted meanwhile (whose deletion
 * disables the endpoints it finds) is never signed with by a new endpoint.
 */
export async function createEndpoint(deps: Pick<Deps, "db" | "config">, actor: AuditActor, tenant: Tenant, input: EndpointInput) {
  await assertDeliverableUrl(deps, input.url);
  const format = input.format ?? "standard";
  if (format === "livekit" && !(await livekitKeyPair(deps, tenant.projectId, input.livekit_key_id ?? ""))) throw noSuchLivekitKey();
  const { db } = deps;
  const at = nowMs();
  const secret = generateWebhookSecret();
  const id = newId("webhookEndpoint");
  const endpoint: Endpoint = {
    id,
    projectId: tenant.projectId,
    orgId: tenant.orgId,
    url: input.url,
    description: input.description ?? null,
    events: input.events ? JSON.stringify(input.events) : null,
    enabled: true,
    disabledReason: null,
    secretEncrypted: await encryptSecret(secret, deps.config.encryptionKeys, sealedAt(webhookEndpoints.secretEncrypted, id)),
    previousSecretEncrypted: null,
    previousSecretExpiresAt: null,
    failingSince: null,
    format,
    livekitKeyId: format === "livekit" ? input.livekit_key_id! : null,
    createdAt: at,
    updatedAt: at,
    deletedAt: null,
    rooms: input.rooms ? JSON.stringify(input.rooms) : null,
  };
  const cap = deps.config.limits.webhooksPerProject;
  const live = db.select({ n: count() }).from(webhookEndpoints).where(and(eq(webhookEndpoints.projectId, tenant.projectId), isNull(webhookEndpoints.deletedAt)));
  const metadata = { url_origin: urlOrigin(input.url), events: input.events ?? null, rooms: input.rooms ?? null, format, livekit_key_id: endpoint.livekitKeyId };
  const keyLive = endpoint.livekitKeyId === null ? [] : [livekitKeyLive(tenant.projectId, endpoint.livekitKeyId)];
  const [inserted] = await db.batch([
    insertWhen(db, webhookEndpoints, endpoint, and(belowCap(live, cap), ...keyLive)!),
    auditEntryWhen(
      db,
      actor,
      { action: "webhook_endpoint.created", resourceType: "webhook_endpoint", resourceId: endpoint.id, ...tenantOf(tenant), metadata },
      rowWritten(webhookEndpoints.id, endpoint.id),
      at,
    ),
  ]);
  if (inserted.length === 0) {
    if (endpoint.livekitKeyId !== null && !(await livekitKeyPair(deps, tenant.projectId, endpoint.livekitKeyId))) throw noSuchLivekitKey();
    throw capReached("webhook endpoints in this project", cap, "LIMIT_WEBHOOKS_PER_PROJECT");
  }
  return { endpoint, secret };
}

export function listEndpoints(deps: Pick<Deps, "db">, projectId: string, request: PageRequest) {
  const live = and(eq(webhookEndpoints.projectId, projectId), isNull(webhookEndpoints.deletedAt));
  return newestFirstPage(request, webhookEndpoints, (after, order, fetch) =>
    deps.db.select().from(webhookEndpoints).where(and(live, after)).orderBy(...order).limit(fetch).all(),
  );
}

export async function updateEndpoint(deps: Pick<Deps, "db" | "config">, actor: AuditActor, tenant: Tenant, endpointId: string, input: EndpointChanges) {
  const endpoint = await findEndpoint(deps, tenant.projectId, endpointId);
  if (input.url !== undefined) await assertDeliverableUrl(deps, input.url);
  const at = nowMs();
  const changes: Partial<typeof webhookEndpoints.$inferInsert> = { updatedAt: at };
  if (input.url !== undefined) changes.url = input.url;
  if (input.events !== undefined) changes.events = input.events === null ? null : JSON.stringify(input.events);
  if (input.description !== undefined) changes.description = input.description;
  if (input.rooms !== undefined) changes.rooms = input.rooms === null ? null : JSON.stringify(input.rooms);
  if (input.enabled !== undefined && input.enabled !== endpoint.enabled) {
    changes.enabled = input.enabled;
    // Re-enabling starts a fresh health record; disabling by hand says so.
    changes.disabledReason = input.enabled ? null : "Disabled by a user.";
    if (input.enabled) changes.failingSince = null;
  }
  const { db } = deps;
  // A LiveKit-format endpoint signs with its LiveKit key: deleting the key disabled it, and it
  // cannot be enabled again without one (checked in the write, so a deletion meanwhile counts).
  const needsKey = changes.enabled === true && endpoint.format === "livekit";
  const keyLive = needsKey ? livekitKeyLive(tenant.projectId, endpoint.livekitKeyId ?? "") : undefined;
  const guard = and(liveEndpoint(tenant.projectId, endpointId), keyLive)!;
  const metadata = { changed: Object.keys(input), ...input, ...(input.url !== undefined ? { url: undefined, url_origin: urlOrigin(input.url) } : {}) };
  const [, updated] = await db.batch([
    auditEntryWhen(
      db,
      actor,
      { action: "webhook_endpoint.updated", resourceType: "webhook_endpoint", resourceId: endpointId, ...tenantOf(tenant), metadata },
      rowsMatch(webhookEndpoints, guard),
      at,
    ),
    db.update(webhookEndpoints).set(changes).where(guard).returning(),
  ]);
  if (updated[0]) return updated[0];
  if (needsKey && (await findEndpoint(deps, tenant.projectId, endpointId))) {
    throw conflict("This endpoint's LiveKit key was deleted, so it cannot sign deliveries; create an endpoint with another LiveKit key.");
  }
  throw notFound("Webhook endpoint");
}

/** Soft-deletes the endpoint; its pending deliveries are not sent. */
export async function deleteEndpoint(deps: Pick<Deps, "db">, actor: AuditActor, tenant: Tenant, endpointId: string): Promise<void> {
  const endpoint = await findEndpoint(deps, tenant.projectId, endpointId);
  const { db } = deps;
  const at = nowMs();
  const [, deleted] = await db.batch([
    auditEntryWhen(
      db,
      actor,
      { action: "webhook_endpoint.deleted", resourceType: "webhook_endpoint", resourceId: endpointId, ...tenantOf(tenant), metadata: { url_origin: urlOrigin(endpoint.url) } },
      rowsMatch(webhookEndpoints, liveEndpoint(tenant.projectId, endpointId)),
      at,
    ),
    db.update(webhookEndpoints).set({ deletedAt: at, enabled: false, updatedAt: at }).where(liveEndpoint(tenant.projectId, endpointId)).returning({ id: webhookEndpoints.id }),
  ]);
  // Deleted by another request meanwhile: that one answered and audited it.
  if (deleted.length === 0) throw notFound("Webhook endpoint");
}

/** A new signing secret, shown once; the previous one keeps signing for ROTATION_OVERLAP_MS. */
export async function rotateEndpointSecret(deps: Pick<Deps, "db" | "config">, actor: AuditActor, tenant: Tenant, endpointId: string) {
  const endpoint = await findEndpoint(deps, tenant.projectId, endpointId);
  const { db } = deps;
  const at = nowMs();
  const secret = generateWebhookSecret();
  const keys = deps.config.encryptionKeys;
  // Sealed values are bound to their column: the outgoing secret is re-sealed for its new place.
  const previous = await decryptSecret(endpoint.secretEncrypted, keys, sealedAt(webhookEndpoints.secretEncrypted, endpointId));
  const [, updated] = await db.batch([
    auditEntryWhen(
      db,
      actor,
      { action: "webhook_endpoint.secret_rotated", resourceType: "webhook_endpoint", resourceId: endpointId, ...tenantOf(tenant) },
      rowsMatch(webhookEndpoints, liveEndpoint(tenant.projectId, endpointId)),
      at,
    ),
    db
      .update(webhookEndpoints)
      .set({
        secretEncrypted: await encryptSecret(secret, keys, sealedAt(webhookEndpoints.secretEncrypted, endpointId)),
        previousSecretEncrypted: await encryptSecret(previous, keys, sealedAt(webhookEndpoints.previousSecretEncrypted, endpointId)),
        previousSecretExpiresAt: at + ROTATION_OVERLAP_MS,
        updatedAt: at,
      })
      .where(liveEndpoint(tenant.projectId, endpointId))
      .returning(),
  ]);
  if (!updated[0]) throw notFound("Webhook endpoint");
  return { endpoint: updated[0], secret };
}

export async function enabledEndpoint(deps: Pick<Deps, "db">, projectId: string, endpointId: string, action: string): Promise<Endpoint> {
  const endpoint = await findEndpoint(deps, projectId, endpointId);
  if (!endpoint.enabled) throw conflict(`The endpoint is disabled; enable it before ${action}.`);
  return endpoint;
}

/** Queues a `webhook.test` event to one enabled endpoint. */
export async function sendTestEvent(deps: Pick<Deps, "db" | "queue">, actor: AuditActor, tenant: Tenant, endpointId: string) {
  const endpoint = await enabledEndpoint(deps, tenant.projectId, endpointId, "sending a test");
  const { db } = deps;
  const at = nowMs();
  const sourceId = `test:${newId("webhookMessage")}`;
  // LiveKit's format has only LiveKit's events: its test is a room_started for a room of its own.
  const { row, insert } =
    endpoint.format === "livekit"
      ? singleMessage(db, tenant.projectId, endpointId, { type: "room.started", occurredAt: at, data: { room: { name: LIVEKIT_TEST_ROOM } } }, sourceId, livekitTestBody(at))
      : singleMessage(
          db,
          tenant.projectId,
          endpointId,
          { type: TEST_EVENT_TYPE, occurredAt: at, data: { endpoint_id: endpointId, message: "This is a test event from Pulse." } },
          sourceId,
        );
  await db.batch([
    insert,
    auditEntry(db, actor, { action: "webhook_endpoint.tested", resourceType: "webhook_endpoint", resourceId: endpointId, ...tenantOf(tenant), metadata: { message_id: row.id } }, at),
  ]);
  await enqueueDeliveries(deps.queue, [{ message_id: row.id, base_attempts: 0 }]);
  return { message: { ...row, lastAttemptAt: null, deliveredAt: null } satisfies Message, attempts: [] as Attempt[] };
}

/** The endpoint's messages, newest first, each with every attempt. */
export async function listDeliveries(
  deps: Pick<Deps, "db">,
  projectId: string,
  endpointId: string,
  request: PageRequest & { status?: Message["status"] },
) {
  await findEndpoint(deps, projectId, endpointId);
  const { db } = deps;
  const { status } = request;
  const toEndpoint = and(eq(webhookMessages.endpointId, endpointId), eq(webhookMessages.projectId, projectId), status ? eq(webhookMessages.status, status) : undefined);
  const result = await newestFirstPage(request, webhookMessages, (after, order, fetch) =>
    db.select().from(webhookMessages).where(and(toEndpoint, after)).orderBy(...order).limit(fetch).all(),
  );
  const ids = result.rows.map((m) => m.id);
  const attempts = ids.length
    ? await db.select().from(webhookAttempts).where(inArray(webhookAttempts.messageId, ids)).orderBy(asc(webhookAttempts.attempt), asc(webhookAttempts.createdAt)).all()
    : [];
  const deliveries = result.rows.map((message) => ({ message, attempts: attempts.filter((a) => a.messageId === message.id) }));
  return { rows: deliveries, nextCursor: result.nextCursor };
}

/** Sends a message again now, whatever its status; it keeps its id. */
export async function retryMessage(deps: Pick<Deps, "db" | "queue">, actor: AuditActor, tenant: Tenant, endpointId: string, messageId: string) {
  await enabledEndpoint(deps, tenant.projectId, endpointId, "retrying");
  const { db } = deps;
  const mine = and(eq(webhookMessages.id, messageId), eq(webhookMessages.endpointId, endpointId), eq(webhookMessages.projectId, tenant.projectId));
  // The retry is the attempt after the last one made, so the change is guarded on that count: an
  // attempt made between the read and the write (a scheduled retry claiming the message) is seen
  // and the retry built on it, rather than being superseded by it or reopening what it delivered.
  for (let tries = 0; tries < RETRY_TRIES; tries++) {
    const message = await db.select().from(webhookMessages).where(mine).get();
    if (!message) throw notFound("Message");
    const at = nowMs();
    const unchanged = and(mine, eq(webhookMessages.attempts, message.attempts))!;
    const [, updated] = await db.batch([
      auditEntryWhen(
        db,
        actor,
        { action: "webhook_message.retried", resourceType: "webhook_message", resourceId: messageId, ...tenantOf(tenant), metadata: { endpoint_id: endpointId } },
        rowsMatch(webhookMessages, unchanged),
        at,
      ),
      db.update(webhookMessages).set({ status: "pending", nextAttemptAt: at }).where(unchanged).returning(),
    ]);
    if (updated.length === 0) continue;
    await enqueueDeliveries(deps.queue, [{ message_id: messageId, base_attempts: message.attempts }]);
    const attempts = await db.select().from(webhookAttempts).where(eq(webhookAttempts.messageId, messageId)).orderBy(asc(webhookAttempts.attempt)).all();
    return { message: updated[0]!, attempts };
  }
  throw conflict("The message is being attempted right now; retry it again in a moment.");
}

/** How often a retry reads the message again when attempts keep landing between its read and its write. */
const RETRY_TRIES = 3;
