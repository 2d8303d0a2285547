/**
 * What Pulse does with a verified LiveKit event. The raw event is stored first, on its own, so a
 * failure in anything after it never loses the event: the request answers 5xx (LiveKit retries)
 * and the stored, unprocessed row is finished by the retry or by the re-processing cron job.
 *
 * Processing (one batch): attribute the event to a project by its namespaced room (or, for web
 * egress without a room, by our egress/ingress record), update participant sessions and meter
 * their minutes, apply egress/ingress state (their modules), and create the tenant's webhook
 * messages. Then the new messages are enqueued and the event is marked processed. Every step is
 * idempotent, so processing an event twice changes nothing the second time.
 */
import { and, eq, isNull, lt } from "drizzle-orm";
import { runBatch, type BatchItem, type Database } from "../db/client";
import { egresses, ingresses, livekitEvents, organizations, projects } from "../db/schema";
import { applyEgressEvent, recordingCompleted } from "../egress/events";
import { applyIngressEvent } from "../ingress/events";
import type { Deps } from "../deps";
import { nowMs } from "../lib/clock";
import { ApiError } from "../lib/errors";
import { zodIssuesToError } from "../lib/openapi";
import { newId } from "../lib/ids";
import { protoString } from "../lib/protojson";
import type { Logger } from "../lib/logger";
import { describeError } from "../lib/logger";
import { closeRoomSessions, closeSession, openSession, type ProjectRef } from "../usage/participant-sessions";
import { roomSessionStatements } from "../sessions/record";
import { withPublicEgressErrors } from "../egress/errors";
import { tenantEventFor } from "../webhooks/event-types";
import { enqueueNewMessages, fanOutStatements } from "../webhooks/messages";
import { parseNamespacedRoom } from "../livekit/rooms";
import { livekitTimeToMs } from "../livekit/timestamps";
import { eventRoomName, LivekitWebhookEventSchema, type LivekitWebhookEvent } from "../livekit/webhook-event";
import { applyRateLimit } from "../rate-limit/service";
import { verifyLivekitWebhook } from "./verify";

export interface InboundDeps {
  db: Database;
  queue: Queue<unknown>;
  logger: Logger;
}

type StoredEvent = typeof livekitEvents.$inferSelect;

interface Attribution extends ProjectRef {
  /** The tenant's own room name, when the event names one. */
  room: string | null;
}

async function knownProject(db: Database, projectId: string, includeDeleted: boolean): Promise<ProjectRef | null> {
  const row = await db
    .select({ projectId: projects.id, orgId: projects.orgId })
    .from(projects)
    .innerJoin(organizations, eq(organizations.id, projects.orgId))
    .where(and(eq(projects.id, projectId), includeDeleted ? undefined : and(isNull(projects.deletedAt), isNull(organizations.deletedAt))))
    .get();
  return row ?? null;
}

/**
 * Which project an event belongs to; null for rooms outside any live project (stored, ignored),
 * except egress/ingress events of a just-deleted project (see below).
 */
async function attribute(db: Database, event: LivekitWebhookEvent): Promise<Attribution | null> {
  const name = eventRoomName(event);
  const parsed = name ? parseNamespacedRoom(name) : null;
  let projectId = parsed?.projectId ?? null;
  if (!projectId && !name) {
    // Web egress has no room: our own record of the LiveKit id says whose it is.
    const egressId = protoString(event.egressInfo, "egressId");
    const ingressId = protoString(event.ingressInfo, "ingressId");
    if (egressId) projectId = (await db.select({ p: egresses.projectId }).from(egresses).where(eq(egresses.egressId, egressId)).get())?.p ?? null;
    else if (ingressId) projectId = (await db.select({ p: ingresses.projectId }).from(ingresses).where(eq(ingresses.ingressId, ingressId)).get())?.p ?? null;
  }
  if (!projectId) return null;
  // Egress and ingress outlive their project by a moment: deleting it stops them (projects/
  // livekit-teardown.ts), and their final events must still close the record and meter its minutes.
  // Its webhook endpoints are gone with it, so nothing is delivered.
  const finishing = event.event.startsWith("egress_") || event.event.startsWith("ingress_");
  const project = await knownProject(db, projectId, finishing);
  return project ? { ...project, room: parsed?.room ?? null } : null;
}

async function stateStatements(db: Database, event: LivekitWebhookEvent, project: Attribution, occurredAt: number): Promise<BatchItem[]> {
  const room = project.room;
  const roomSid = event.room?.sid || null;
  const p = event.participant;
  switch (event.event) {
    case "participant_joined": {
      if (!room || !p?.sid) return [];
      const joinedAt = livekitTimeToMs(p.joinedAtMs) ?? livekitTimeToMs(p.joinedAt) ?? occurredAt;
      return [openSession(db, project, { room, roomSid, participantSid: p.sid, identity: p.identity ?? "" }, joinedAt)];
    }
    case "participant_left":
    case "participant_connection_aborted": {
      if (!room || !p?.sid) return [];
      const joinedAt = livekitTimeToMs(p.joinedAtMs) ?? livekitTimeToMs(p.joinedAt);
      const reason = event.event === "participant_left" ? "left" : "connection_aborted";
      return closeSession(db, project, { room, roomSid, participantSid: p.sid, identity: p.identity ?? "" }, { joinedAt, leftAt: occurredAt }, reason);
    }
    case "room_finished":
      return room ? closeRoomSessions(db, project, { room, roomSid }, occurredAt) : [];
    case "egress_started":
    case "egress_updated":
    case "egress_ended":
      return applyEgressEvent(db, project, { event: event.event, id: event.id, createdAt: occurredAt, egressInfo: event.egressInfo ?? {} });
    case "ingress_started":
    case "ingress_ended":
      return applyIngressEvent(db, project, { event: event.event, id: event.id, createdAt: occurredAt, ingressInfo: event.ingressInfo ?? {} });
    default:
      return [];
  }
}

/** Applies a stored event and fans it out; marks it processed last, so a failure leaves it to redo. */
async function processStoredEvent(deps: InboundDeps, stored: StoredEvent): Promise<void> {
  const { db } = deps;
  const event = LivekitWebhookEventSchema.parse(JSON.parse(stored.payload));
  // Records and both webhook formats get generic egress errors; the raw text goes to the log only.
  if (event.egressInfo) event.egressInfo = withPublicEgressErrors(event.egressInfo, deps.logger);
  const project = await attribute(db, event);
  if (!project) {
    await db.update(livekitEvents).set({ processedAt: nowMs() }).where(eq(livekitEvents.id, stored.id));
    return;
  }
  const statements = await stateStatements(db, event, project, stored.occurredAt);
  statements.push(...(await roomSessionStatements(db, event, project, stored.occurredAt)));
  const tenantEvent = tenantEventFor(event, project.projectId, stored.occurredAt);
  if (tenantEvent) statements.push(...(await fanOutStatements(db, project.projectId, tenantEvent, event.id, event)));
  const recording = await recordingCompleted(db, project, event, stored.occurredAt);
  if (recording) statements.push(...(await fanOutStatements(db, project.projectId, recording.event, recording.sourceId)));
  statements.push(db.update(livekitEvents).set({ projectId: project.projectId }).where(eq(livekitEvents.id, stored.id)));
  await runBatch(db, statements);
  if (tenantEvent) await enqueueNewMessages(db, deps.queue, project.projectId, event.id);
  if (recording) await enqueueNewMessages(db, deps.queue, project.projectId, recording.sourceId);
  await db.update(livekitEvents).set({ processedAt: nowMs() }).where(eq(livekitEvents.id, stored.id));
}

/**
 * Stores and processes one verified event. A replay of a processed event changes nothing; a replay
 * of one whose processing failed earlier finishes it.
 */
export async function receiveLivekitEvent(deps: InboundDeps, event: LivekitWebhookEvent, rawBody: string): Promise<{ duplicate: boolean }> {
  const { db } = deps;
  const receivedAt = nowMs();
  const row: StoredEvent = {
    id: newId("livekitEvent"),
    eventId: event.id,
    event: event.event,
    roomName: eventRoomName(event),
    projectId: null,
    payload: rawBody,
    occurredAt: livekitTimeToMs(event.createdAt) ?? receivedAt,
    receivedAt,
    processedAt: null,
  };
  const inserted = await db.insert(livekitEvents).values(row).onConflictDoNothing({ target: livekitEvents.eventId }).returning({ id: livekitEvents.id });
  if (inserted.length > 0) {
    await processStoredEvent(deps, row);
    return { duplicate: false };
  }
  const existing = await db.select().from(livekitEvents).where(eq(livekitEvents.eventId, event.id)).get();
  if (existing && existing.processedAt === null) await processStoredEvent(deps, existing);
  return { duplicate: true };
}

/** A webhook request as LiveKit sent it. */
export interface SignedWebhook {
  /** The `Authorization` header: LiveKit's JWT, bare or after `Bearer `. */
  authorization: string | undefined;
  /** The exact body bytes as text (the JWT's `sha256` covers them). */
  rawBody: string;
  /** Where it came from: failed signatures are limited per address. */
  clientIp: string;
}

/**
 * Verifies, parses and receives one webhook request. A bad signature is 401 and counts against the
 * sender's address (429 past `RATE_LIMIT_IP_PER_MIN`; the limiter failing open, so it never costs
 * LiveKit's events); a verified body that is not an event is 400.
 */
export async function receiveSignedWebhook(
  deps: InboundDeps & Pick<Deps, "config" | "limiter">,
  request: SignedWebhook,
): Promise<{ duplicate: boolean }> {
  if (!(await verifyLivekitWebhook(deps.config.livekit, request.authorization, request.rawBody))) {
    const limited = await applyRateLimit(deps, {
      policy: "livekit-webhook-ip",
      key: `livekit-webhook:${request.clientIp}`,
      limit: deps.config.rateLimits.ipPerMinute,
      failMode: "open",
    });
    throw new ApiError("unauthenticated", "Missing or invalid LiveKit webhook signature.", {
      headers: limited.status === "checked" ? limited.headers : undefined,
    });
  }
  let json: unknown;
  try {
    json = JSON.parse(request.rawBody);
  } catch {
    throw new ApiError("invalid_json", "The request body is not valid JSON.");
  }
  const parsed = LivekitWebhookEventSchema.safeParse(json);
  if (!parsed.success) throw zodIssuesToError(parsed.error);
  return receiveLivekitEvent(deps, parsed.data, request.rawBody);
}

/** Cron job: finishes events stored but left unprocessed (a failure after storing, LiveKit gave up). */
export async function reprocessStoredEvents(deps: InboundDeps, limit = 50): Promise<{ processed: number; failed: number }> {
  const stale = await deps.db
    .select()
    .from(livekitEvents)
    .where(and(isNull(livekitEvents.processedAt), lt(livekitEvents.receivedAt, nowMs() - 60_000)))
    .orderBy(livekitEvents.receivedAt)
    .limit(limit)
    .all();
  let failed = 0;
  for (const row of stale) {
    try {
      await processStoredEvent(deps, row);
    } catch (error) {
      failed++;
      deps.logger.error("livekit_event_reprocess_failed", { event_id: row.eventId, ...describeError(error) });
    }
  }
  return { processed: stale.length - failed, failed };
}
