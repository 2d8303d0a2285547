/**
 * LiveKit keys: per-project credentials in LiveKit's own format (`API…` key, 43-character secret),
 * so servers written against LiveKit's SDKs keep working with Pulse as their host. They are
 * usable only where LiveKit's format is spoken (the Twirp API, LiveKit-format webhooks), never as
 * a Pulse API key: their secrets do not start with `pulse_`, so the API-key middleware never even
 * looks them up.
 *
 * The secret is sealed with the encryption keyring, not hashed: verifying an HS256 JWT needs it.
 * Resolving a key by its `api_key` is cached per isolate for a few seconds (like API keys); a
 * deletion is announced to the project's rate-limiter object first, which every Twirp request
 * consults, so a deleted key stops working everywhere at once.
 */
import { and, eq, isNull, sql } from "drizzle-orm";
import { announceRevokedKeys } from "../api-keys/revocation";
import { auditEntriesForRows, auditEntry, auditEntryWhen, type AuditActor } from "../audit/record";
import type { Config } from "../config";
import { runBatch, type Database } from "../db/client";
import { rowsMatch } from "../db/count-cap";
import type { Deps } from "../deps";
import { livekitKeys, organizations, projects, webhookEndpoints } from "../db/schema";
import { nowMs } from "../lib/clock";
import { notFound } from "../lib/errors";
import { newId, randomBase62 } from "../lib/ids";
import { afterCursor, newestFirst, page } from "../lib/pagination";
import { decryptSecret, encryptSecret, generateSecret, sha256Hex } from "../lib/secrets";
import { sealedAt } from "../db/sealed";
import { TtlCache } from "../lib/ttl-cache";
import type { LivekitKeyPair } from "../livekit/jwt";

type LivekitKeyRow = typeof livekitKeys.$inferSelect;

export interface LivekitKeyDeps {
  db: Database;
  config: Config;
}

export interface ProjectRef {
  projectId: string;
  orgId: string;
}

/** `API` + 12 base62 characters, the shape LiveKit's own keys have. */
export function newLivekitApiKey(): string {
  return `API${randomBase62(12)}`;
}

/** 32 random bytes in base62: 43 characters, like the secrets `livekit-server generate-keys` prints. */
export function newLivekitApiSecret(): string {
  return generateSecret("", 32);
}

/** What the rate limiter remembers a deleted key by (the api_key is public; its hash is just a tag). */
export function livekitKeyCredential(apiKey: string): Promise<string> {
  return sha256Hex(`livekit-key:${apiKey}`);
}

export async function createLivekitKey(deps: LivekitKeyDeps, project: ProjectRef, actor: { userId: string; audit: AuditActor }, input: { name?: string }) {
  const { db, config } = deps;
  const at = nowMs();
  const secret = newLivekitApiSecret();
  const id = newId("livekitKey");
  const row: LivekitKeyRow = {
    id,
    projectId: project.projectId,
    orgId: project.orgId,
    name: input.name ?? "",
    apiKey: newLivekitApiKey(),
    secretEncrypted: await encryptSecret(secret, config.encryptionKeys, sealedAt(livekitKeys.secretEncrypted, id)),
    createdBy: actor.userId,
    createdAt: at,
    deletedAt: null,
  };
  await db.batch([
    db.insert(livekitKeys).values(row),
    auditEntry(
      db,
      actor.audit,
      {
        action: "livekit_key.created",
        resourceType: "livekit_key",
        resourceId: row.id,
        orgId: project.orgId,
        projectId: project.projectId,
        metadata: { api_key: row.apiKey, name: row.name },
      },
      at,
    ),
  ]);
  return { row, secret };
}

export async function listLivekitKeys(db: Database, projectId: string, opts: { limit: number; cursor?: string }) {
  const rows = await db
    .select()
    .from(livekitKeys)
    .where(and(eq(livekitKeys.projectId, projectId), isNull(livekitKeys.deletedAt), afterCursor(opts.cursor, livekitKeys.createdAt, livekitKeys.id)))
    .orderBy(...newestFirst(livekitKeys.createdAt, livekitKeys.id))
    .limit(opts.limit + 1)
    .all();
  return page(rows, opts.limit);
}

/** The project's live key by id; another project's, a deleted or no key is 404. */
export async function getLivekitKey(db: Database, projectId: string, id: string): Promise<LivekitKeyRow> {
  const row = await db
    .select()
    .from(livekitKeys)
    .where(and(eq(livekitKeys.id, id), eq(livekitKeys.projectId, projectId), isNull(livekitKeys.deletedAt)))
    .get();
  if (!row) throw notFound("LiveKit key");
  return row;
}

/**
 * Deletes a key. Every isolate is told first (see the module comment); the write is guarded on
 * the key still being live, so two deletions audit once.
 */
export async function deleteLivekitKey(
  deps: Pick<Deps, "db" | "limiter" | "logger">,
  project: ProjectRef,
  actor: { audit: AuditActor },
  id: string,
): Promise<void> {
  const { db } = deps;
  const row = await getLivekitKey(db, project.projectId, id);
  await announceRevokedKeys(deps, project.projectId, [await livekitKeyCredential(row.apiKey)]);
  forgetLivekitKey(row.apiKey);
  const at = nowMs();
  const liveKey = and(eq(livekitKeys.id, row.id), isNull(livekitKeys.deletedAt))!;
  // Everything in the batch happens only while the key is live: a second delete changes and audits nothing.
  const live = rowsMatch(livekitKeys, liveKey);
  // Endpoints signing with this key cannot be delivered any more: they are disabled with it, picked
  // in the batch itself, so one created while this deletion was on its way is disabled too.
  const signing = and(eq(webhookEndpoints.livekitKeyId, row.id), eq(webhookEndpoints.enabled, true), isNull(webhookEndpoints.deletedAt), live)!;
  const disabled = [
    auditEntriesForRows(
      db,
      actor.audit,
      { action: "webhook_endpoint.disabled", resourceType: "webhook_endpoint" },
      {
        table: webhookEndpoints,
        where: signing,
        resourceId: webhookEndpoints.id,
        orgId: webhookEndpoints.orgId,
        projectId: webhookEndpoints.projectId,
        metadata: sql`json_object('reason', 'livekit_key_deleted', 'livekit_key_id', ${row.id})`,
      },
      at,
    ),
    db.update(webhookEndpoints).set({ enabled: false, disabledReason: "Its LiveKit key was deleted.", updatedAt: at }).where(signing),
  ];
  await runBatch(db, [
    ...disabled,
    auditEntryWhen(
      db,
      actor.audit,
      {
        action: "livekit_key.deleted",
        resourceType: "livekit_key",
        resourceId: row.id,
        orgId: project.orgId,
        projectId: project.projectId,
        metadata: { api_key: row.apiKey, name: row.name },
      },
      live,
      at,
    ),
    db.update(livekitKeys).set({ deletedAt: at }).where(liveKey),
  ]);
}

/** A live key of the project as the pair that signs (LiveKit-format webhooks); null if none. */
export async function livekitKeyPair(deps: Pick<Deps, "db" | "config">, projectId: string, id: string): Promise<LivekitKeyPair | null> {
  const row = await deps.db
    .select({ id: livekitKeys.id, apiKey: livekitKeys.apiKey, secretEncrypted: livekitKeys.secretEncrypted })
    .from(livekitKeys)
    .where(and(eq(livekitKeys.id, id), eq(livekitKeys.projectId, projectId), isNull(livekitKeys.deletedAt)))
    .get();
  return row ? { apiKey: row.apiKey, apiSecret: await decryptSecret(row.secretEncrypted, deps.config.encryptionKeys, sealedAt(livekitKeys.secretEncrypted, row.id)) } : null;
}

// ---------------------------------------------------------------------------------------------
// Resolving a JWT issuer to its key (the Twirp API's authentication)
// ---------------------------------------------------------------------------------------------

export interface ResolvedLivekitKey {
  id: string;
  apiKey: string;
  projectId: string;
  orgId: string;
  secret: string;
  /** Tag the rate limiter knows deletions by. */
  credential: string;
  rateLimitPerMin: number | null;
}

export const LIVEKIT_KEY_CACHE_TTL_MS = 30_000;
const MAX_CACHED = 10_000;
const cache = new TtlCache<ResolvedLivekitKey>(LIVEKIT_KEY_CACHE_TTL_MS, MAX_CACHED);

/** One indexed lookup: the key must be live and its project and org not deleted. */
export async function lookupLivekitKey(deps: LivekitKeyDeps, apiKey: string): Promise<ResolvedLivekitKey | null> {
  const row = await deps.db
    .select({
      id: livekitKeys.id,
      apiKey: livekitKeys.apiKey,
      projectId: livekitKeys.projectId,
      orgId: livekitKeys.orgId,
      secretEncrypted: livekitKeys.secretEncrypted,
      rateLimitPerMin: projects.rateLimitPerMin,
    })
    .from(livekitKeys)
    .innerJoin(projects, eq(projects.id, livekitKeys.projectId))
    .innerJoin(organizations, eq(organizations.id, livekitKeys.orgId))
    .where(and(eq(livekitKeys.apiKey, apiKey), isNull(livekitKeys.deletedAt), isNull(projects.deletedAt), isNull(organizations.deletedAt)))
    .get();
  if (!row) return null;
  const { secretEncrypted, ...rest } = row;
  return { ...rest, secret: await decryptSecret(secretEncrypted, deps.config.encryptionKeys, sealedAt(livekitKeys.secretEncrypted, row.id)), credential: await livekitKeyCredential(row.apiKey) };
}

/** The key for `apiKey`, from this isolate's cache when fresh. `fromCache` tells the caller whether D1 vouched for it just now. */
export async function resolveLivekitKey(deps: LivekitKeyDeps, apiKey: string): Promise<{ key: ResolvedLivekitKey; fromCache: boolean } | null> {
  const hit = cache.get(apiKey);
  if (hit) return { key: hit, fromCache: true };
  const key = await lookupLivekitKey(deps, apiKey);
  if (!key) return null;
  cache.set(apiKey, key);
  return { key, fromCache: false };
}

export function forgetLivekitKey(apiKey: string): void {
  cache.delete(apiKey);
}
