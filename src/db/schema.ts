/**
 * The whole Pulse domain in D1. Times are integer milliseconds since the epoch (UTC); JSON columns
 * are TEXT holding JSON. Tenancy: every tenant-owned row carries `org_id` and, where it belongs to a
 * project, `project_id`, so every query can be filtered by the caller's tenant.
 *
 * Organizations, projects and webhook endpoints are soft-deleted (`deleted_at`): the audit log and
 * invoices outlive them, and nothing that refers to a deleted one may authenticate or deliver.
 */
import { sql } from "drizzle-orm";
import { index, integer, primaryKey, real, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";

export const users = sqliteTable(
  "users",
  {
    id: text("id").primaryKey(),
    email: text("email").notNull(),
    /** lower-cased email: the case-insensitive unique key. */
    emailNormalized: text("email_normalized").notNull(),
    name: text("name").notNull(),
    passwordHash: text("password_hash").notNull(),
    emailVerifiedAt: integer("email_verified_at"),
    createdAt: integer("created_at").notNull(),
    updatedAt: integer("updated_at").notNull(),
  },
  (t) => [uniqueIndex("users_email_normalized_uq").on(t.emailNormalized)],
);

export const sessions = sqliteTable(
  "sessions",
  {
    id: text("id").primaryKey(),
    userId: text("user_id").notNull().references(() => users.id, { onDelete: "cascade" }),
    tokenHash: text("token_hash").notNull(),
    ip: text("ip"),
    userAgent: text("user_agent"),
    createdAt: integer("created_at").notNull(),
    expiresAt: integer("expires_at").notNull(),
    revokedAt: integer("revoked_at"),
    /** Refreshed at most once a minute per session (identity/sessions.ts), so reads stay cheap. */
    lastUsedAt: integer("last_used_at"),
  },
  (t) => [
    uniqueIndex("sessions_token_hash_uq").on(t.tokenHash),
    index("sessions_user_id_idx").on(t.userId),
    index("sessions_expires_at_idx").on(t.expiresAt),
    index("sessions_revoked_at_idx").on(t.revokedAt),
  ],
);

/**
 * Single-use tokens mailed to a user: email verification (24 h) and password reset (1 h). Only the
 * SHA-256 of the token is stored; using one sets `used_at`, and issuing a new one of the same
 * purpose retires the user's older ones.
 */
export const userTokens = sqliteTable(
  "user_tokens",
  {
    id: text("id").primaryKey(),
    userId: text("user_id").notNull().references(() => users.id, { onDelete: "cascade" }),
    purpose: text("purpose", { enum: ["email_verification", "password_reset"] }).notNull(),
    tokenHash: text("token_hash").notNull(),
    createdAt: integer("created_at").notNull(),
    expiresAt: integer("expires_at").notNull(),
    usedAt: integer("used_at"),
  },
  (t) => [
    uniqueIndex("user_tokens_token_hash_uq").on(t.tokenHash),
    index("user_tokens_user_purpose_idx").on(t.userId, t.purpose),
    index("user_tokens_expires_at_idx").on(t.expiresAt),
    index("user_tokens_used_at_idx").on(t.usedAt),
  ],
);

/**
 * The mail outbox: every email Pulse sends is a row here first (written in the same batch as what
 * caused it), then delivered through the queue by the configured provider. In production the text
 * (which carries single-use tokens) is erased once the message is sent or given up on.
 */
export const mailOutbox = sqliteTable(
  "mail_outbox",
  {
    id: text("id").primaryKey(),
    toAddress: text("to_address").notNull(),
    toNormalized: text("to_normalized").notNull(),
    /** Which message this is (`email_verification`, `password_reset`, `invitation`). */
    template: text("template").notNull(),
    subject: text("subject").notNull(),
    text: text("text"),
    status: text("status", { enum: ["pending", "sent", "failed"] }).notNull().default("pending"),
    attempts: integer("attempts").notNull().default(0),
    provider: text("provider"),
    lastError: text("last_error"),
    createdAt: integer("created_at").notNull(),
    sentAt: integer("sent_at"),
  },
  (t) => [
    index("mail_outbox_to_created_idx").on(t.toNormalized, t.createdAt),
    index("mail_outbox_status_created_idx").on(t.status, t.createdAt),
    index("mail_outbox_created_at_idx").on(t.createdAt),
  ],
);

export const plans = sqliteTable("plans", {
  id: text("id").primaryKey(),
  name: text("name").notNull(),
  monthlyPriceCents: integer("monthly_price_cents").notNull(),
  currency: text("currency").notNull().default("usd"),
  /** JSON: { participant_minutes: n, egress_minutes: n, ingress_minutes: n, tokens_issued: n } included per month. */
  included: text("included").notNull(),
  /** JSON: overage price per unit in micro-dollars (1 USD = 1,000,000), by meter; absent meter = no overage billing. */
  overageRates: text("overage_rates").notNull(),
  /** Free-tier style plans stop at the quota (402 `quota_exceeded`) instead of billing overage. */
  hardCap: integer("hard_cap", { mode: "boolean" }).notNull().default(false),
  active: integer("active", { mode: "boolean" }).notNull().default(true),
  createdAt: integer("created_at").notNull(),
  /** Egresses an org may have starting/active/ending at once (402 `quota_exceeded` beyond); null = no cap. */
  maxConcurrentEgress: integer("max_concurrent_egress"),
});

export const organizations = sqliteTable(
  "organizations",
  {
    id: text("id").primaryKey(),
    name: text("name").notNull(),
    planId: text("plan_id").notNull().default("free").references(() => plans.id),
    createdAt: integer("created_at").notNull(),
    updatedAt: integer("updated_at").notNull(),
    deletedAt: integer("deleted_at"),
  },
  (t) => [index("organizations_plan_id_idx").on(t.planId), index("organizations_created_at_idx").on(t.createdAt)],
);

export const memberships = sqliteTable(
  "memberships",
  {
    orgId: text("org_id").notNull().references(() => organizations.id, { onDelete: "cascade" }),
    userId: text("user_id").notNull().references(() => users.id, { onDelete: "cascade" }),
    role: text("role", { enum: ["owner", "admin", "member", "viewer"] }).notNull(),
    createdAt: integer("created_at").notNull(),
    updatedAt: integer("updated_at").notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.orgId, t.userId] }),
    index("memberships_user_id_idx").on(t.userId),
    // The member list's keyset order (created_at, user_id) within an org.
    index("memberships_org_created_idx").on(t.orgId, t.createdAt, t.userId),
  ],
);

export const invitations = sqliteTable(
  "invitations",
  {
    id: text("id").primaryKey(),
    orgId: text("org_id").notNull().references(() => organizations.id, { onDelete: "cascade" }),
    email: text("email").notNull(),
    emailNormalized: text("email_normalized").notNull(),
    role: text("role", { enum: ["owner", "admin", "member", "viewer"] }).notNull(),
    tokenHash: text("token_hash").notNull(),
    invitedBy: text("invited_by").references(() => users.id, { onDelete: "set null" }),
    createdAt: integer("created_at").notNull(),
    expiresAt: integer("expires_at").notNull(),
    acceptedAt: integer("accepted_at"),
    acceptedBy: text("accepted_by").references(() => users.id, { onDelete: "set null" }),
    revokedAt: integer("revoked_at"),
  },
  (t) => [
    uniqueIndex("invitations_token_hash_uq").on(t.tokenHash),
    index("invitations_org_id_created_at_idx").on(t.orgId, t.createdAt, t.id),
    index("invitations_org_email_idx").on(t.orgId, t.emailNormalized),
    index("invitations_invited_by_idx").on(t.invitedBy),
    index("invitations_accepted_by_idx").on(t.acceptedBy),
    index("invitations_expires_at_idx").on(t.expiresAt),
    index("invitations_revoked_at_idx").on(t.revokedAt),
  ],
);

export const projects = sqliteTable(
  "projects",
  {
    id: text("id").primaryKey(),
    orgId: text("org_id").notNull().references(() => organizations.id, { onDelete: "cascade" }),
    name: text("name").notNull(),
    /** Per-project override of RATE_LIMIT_PROJECT_PER_MIN; null = the default. */
    rateLimitPerMin: integer("rate_limit_per_min"),
    createdAt: integer("created_at").notNull(),
    updatedAt: integer("updated_at").notNull(),
    deletedAt: integer("deleted_at"),
  },
  (t) => [
    index("projects_org_id_created_at_idx").on(t.orgId, t.createdAt, t.id),
    // LiveKit teardown walks deleted projects (few) rather than every egress or ingress.
    index("projects_deleted_at_idx").on(t.deletedAt).where(sql`deleted_at IS NOT NULL`),
  ],
);

export const apiKeys = sqliteTable(
  "api_keys",
  {
    id: text("id").primaryKey(),
    projectId: text("project_id").notNull().references(() => projects.id, { onDelete: "cascade" }),
    orgId: text("org_id").notNull().references(() => organizations.id, { onDelete: "cascade" }),
    name: text("name").notNull(),
    /** The secret's first characters, shown in lists so people can recognise a key. Not secret. */
    prefix: text("prefix").notNull(),
    /** SHA-256 of the full secret; the secret itself is never stored. */
    keyHash: text("key_hash").notNull(),
    /** JSON array of scopes. */
    scopes: text("scopes").notNull(),
    createdBy: text("created_by").references(() => users.id, { onDelete: "set null" }),
    createdAt: integer("created_at").notNull(),
    expiresAt: integer("expires_at"),
    revokedAt: integer("revoked_at"),
    lastUsedAt: integer("last_used_at"),
  },
  (t) => [
    uniqueIndex("api_keys_key_hash_uq").on(t.keyHash),
    index("api_keys_project_id_created_at_idx").on(t.projectId, t.createdAt, t.id),
    index("api_keys_org_id_idx").on(t.orgId),
    index("api_keys_created_by_idx").on(t.createdBy),
  ],
);

/**
 * LiveKit-style credentials of a project, for the LiveKit-compatible Twirp API and for signing
 * webhooks in LiveKit's format. The secret is sealed (a JWT check needs the secret itself, so a
 * hash would not do); `api_key` is public and unique, the JWT's `iss`.
 */
export const livekitKeys = sqliteTable(
  "livekit_keys",
  {
    id: text("id").primaryKey(),
    projectId: text("project_id").notNull().references(() => projects.id, { onDelete: "cascade" }),
    orgId: text("org_id").notNull().references(() => organizations.id, { onDelete: "cascade" }),
    name: text("name").notNull().default(""),
    /** `API` + 12 base62 characters: the JWT issuer. */
    apiKey: text("api_key").notNull(),
    /** AES-GCM sealed secret (see lib/secrets.ts). */
    secretEncrypted: text("secret_encrypted").notNull(),
    createdBy: text("created_by").references(() => users.id, { onDelete: "set null" }),
    createdAt: integer("created_at").notNull(),
    /** Deleted keys stay (audit, webhook endpoints that named them) and never authenticate. */
    deletedAt: integer("deleted_at"),
  },
  (t) => [
    uniqueIndex("livekit_keys_api_key_uq").on(t.apiKey),
    index("livekit_keys_project_created_idx").on(t.projectId, t.createdAt, t.id),
    index("livekit_keys_org_id_idx").on(t.orgId),
    index("livekit_keys_created_by_idx").on(t.createdBy),
  ],
);

export const auditLogs = sqliteTable(
  "audit_logs",
  {
    id: text("id").primaryKey(),
    /** Null for events outside any org (signup, login). */
    orgId: text("org_id"),
    projectId: text("project_id"),
    actorType: text("actor_type", { enum: ["user", "api_key", "system", "anonymous"] }).notNull(),
    actorId: text("actor_id"),
    action: text("action").notNull(),
    resourceType: text("resource_type").notNull(),
    resourceId: text("resource_id"),
    ip: text("ip"),
    userAgent: text("user_agent"),
    requestId: text("request_id"),
    /** JSON object; never secrets. */
    metadata: text("metadata").notNull().default("{}"),
    createdAt: integer("created_at").notNull(),
  },
  // No foreign keys on purpose: the audit log must outlive what it describes.
  // Every filter of the audit API has its own index ending in the keyset order (created_at, id), so
  // a page with a rare filter value seeks straight to its rows instead of walking the whole org.
  (t) => [
    index("audit_logs_org_created_idx").on(t.orgId, t.createdAt, t.id),
    index("audit_logs_org_action_idx").on(t.orgId, t.action, t.createdAt, t.id),
    index("audit_logs_org_actor_idx").on(t.orgId, t.actorId, t.createdAt, t.id),
    index("audit_logs_org_resource_idx").on(t.orgId, t.resourceType, t.createdAt, t.id),
    // `resource_id=`, with or without `resource_type=` (ids are unique across types, so the type
    // is a residual check on the few rows of that id).
    index("audit_logs_org_resource_id_idx").on(t.orgId, t.resourceId, t.createdAt, t.id),
    index("audit_logs_org_project_idx").on(t.orgId, t.projectId, t.createdAt, t.id),
    // Retention deletes the oldest rows first.
    index("audit_logs_created_at_idx").on(t.createdAt),
  ],
);

export const webhookEndpoints = sqliteTable(
  "webhook_endpoints",
  {
    id: text("id").primaryKey(),
    projectId: text("project_id").notNull().references(() => projects.id, { onDelete: "cascade" }),
    orgId: text("org_id").notNull().references(() => organizations.id, { onDelete: "cascade" }),
    url: text("url").notNull(),
    description: text("description"),
    /** JSON array of event types, or null for every event. */
    events: text("events"),
    enabled: integer("enabled", { mode: "boolean" }).notNull().default(true),
    disabledReason: text("disabled_reason"),
    /** AES-GCM sealed `whsec_…` (see lib/secrets.ts). */
    secretEncrypted: text("secret_encrypted").notNull(),
    /** During rotation the previous secret keeps signing until this time. */
    previousSecretEncrypted: text("previous_secret_encrypted"),
    previousSecretExpiresAt: integer("previous_secret_expires_at"),
    /** First failure of the current failing streak; null while healthy. */
    failingSince: integer("failing_since"),
    /** `standard` (Standard Webhooks) or `livekit` (LiveKit's own format, signed with `livekit_key_id`). */
    format: text("format", { enum: ["standard", "livekit"] }).notNull().default("standard"),
    livekitKeyId: text("livekit_key_id").references(() => livekitKeys.id),
    createdAt: integer("created_at").notNull(),
    updatedAt: integer("updated_at").notNull(),
    deletedAt: integer("deleted_at"),
    /** JSON array of room-name globs (`*` only) the endpoint receives; null for every room. */
    rooms: text("rooms"),
  },
  (t) => [
    index("webhook_endpoints_project_id_created_at_idx").on(t.projectId, t.createdAt, t.id),
    index("webhook_endpoints_org_id_idx").on(t.orgId),
    // The health job's failing endpoints (only those failing are indexed).
    index("webhook_endpoints_failing_idx").on(t.failingSince).where(sql`failing_since IS NOT NULL`),
    index("webhook_endpoints_livekit_key_id_idx").on(t.livekitKeyId),
  ],
);

export const webhookMessages = sqliteTable(
  "webhook_messages",
  {
    id: text("id").primaryKey(),
    projectId: text("project_id").notNull().references(() => projects.id, { onDelete: "cascade" }),
    endpointId: text("endpoint_id").notNull().references(() => webhookEndpoints.id, { onDelete: "cascade" }),
    eventType: text("event_type").notNull(),
    /** The exact JSON body delivered (signed bytes). */
    payload: text("payload").notNull(),
    status: text("status", { enum: ["pending", "delivered", "failed"] }).notNull().default("pending"),
    attempts: integer("attempts").notNull().default(0),
    /** The LiveKit event (or other source) this message was made from, for idempotent fan-out. */
    sourceId: text("source_id"),
    nextAttemptAt: integer("next_attempt_at"),
    lastAttemptAt: integer("last_attempt_at"),
    deliveredAt: integer("delivered_at"),
    createdAt: integer("created_at").notNull(),
  },
  (t) => [
    // The delivery log, unfiltered and by status.
    index("webhook_messages_endpoint_created_idx").on(t.endpointId, t.createdAt, t.id),
    index("webhook_messages_endpoint_status_idx").on(t.endpointId, t.status, t.createdAt, t.id),
    // Fan-out finds the messages made from one source event.
    index("webhook_messages_project_id_idx").on(t.projectId, t.sourceId),
    // Re-queueing overdue pending messages, and retention of finished ones (oldest first).
    index("webhook_messages_status_next_idx").on(t.status, t.nextAttemptAt),
    index("webhook_messages_status_created_idx").on(t.status, t.createdAt),
    uniqueIndex("webhook_messages_endpoint_source_uq").on(t.endpointId, t.sourceId),
  ],
);

export const webhookAttempts = sqliteTable(
  "webhook_attempts",
  {
    id: text("id").primaryKey(),
    messageId: text("message_id").notNull().references(() => webhookMessages.id, { onDelete: "cascade" }),
    endpointId: text("endpoint_id").notNull().references(() => webhookEndpoints.id, { onDelete: "cascade" }),
    attempt: integer("attempt").notNull(),
    statusCode: integer("status_code"),
    durationMs: integer("duration_ms").notNull(),
    /** First few KiB of the receiver's answer. */
    responseBody: text("response_body"),
    error: text("error"),
    createdAt: integer("created_at").notNull(),
  },
  (t) => [
    index("webhook_attempts_message_id_idx").on(t.messageId, t.createdAt),
    index("webhook_attempts_endpoint_id_idx").on(t.endpointId, t.createdAt),
  ],
);

export const livekitEvents = sqliteTable(
  "livekit_events",
  {
    id: text("id").primaryKey(),
    /** LiveKit's `EV_…` id: the deduplication key. */
    eventId: text("event_id").notNull(),
    event: text("event").notNull(),
    /** The namespaced room as LiveKit knows it. */
    roomName: text("room_name"),
    /** Null when the room belongs to no project (stored and ignored). */
    projectId: text("project_id").references(() => projects.id, { onDelete: "set null" }),
    payload: text("payload").notNull(),
    occurredAt: integer("occurred_at").notNull(),
    receivedAt: integer("received_at").notNull(),
    processedAt: integer("processed_at"),
    /** How many times the safety net put it back on the inbound queue unprocessed. */
    requeues: integer("requeues").notNull().default(0),
    /** Set when the safety net gave up on it (still unprocessed after MAX_REQUEUES): logged, no longer retried. */
    abandonedAt: integer("abandoned_at"),
  },
  (t) => [
    uniqueIndex("livekit_events_event_id_uq").on(t.eventId),
    index("livekit_events_project_id_idx").on(t.projectId, t.occurredAt),
    // The newest event of a room (the stale-session job's "last sign of life"): one seek.
    index("livekit_events_room_name_idx").on(t.roomName, t.occurredAt),
    index("livekit_events_received_at_idx").on(t.receivedAt),
    /** Stored, not yet processed and not given up on (the safety net's look-up): small, whatever the table's size. */
    index("livekit_events_unprocessed_idx").on(t.receivedAt, t.id).where(sql`processed_at IS NULL AND abandoned_at IS NULL`),
    /** Given up on, newest first (the operators' list and requeue): as many rows as were given up on. */
    index("livekit_events_abandoned_idx").on(t.abandonedAt, t.id).where(sql`abandoned_at IS NOT NULL`),
  ],
);

export const participantSessions = sqliteTable(
  "participant_sessions",
  {
    id: text("id").primaryKey(),
    projectId: text("project_id").notNull().references(() => projects.id, { onDelete: "cascade" }),
    orgId: text("org_id").notNull().references(() => organizations.id, { onDelete: "cascade" }),
    /** The tenant's own room name (namespace stripped). */
    room: text("room").notNull(),
    roomSid: text("room_sid"),
    participantSid: text("participant_sid").notNull(),
    identity: text("identity").notNull(),
    /** The participant's display name as LiveKit last reported it. */
    name: text("name"),
    joinedAt: integer("joined_at").notNull(),
    leftAt: integer("left_at"),
    /** Whole minutes, rounded up, once closed. */
    minutes: integer("minutes"),
    endReason: text("end_reason"),
    /** The room session (one LiveKit room lifetime) this participant session belongs to. */
    roomSessionId: text("room_session_id"),
    createdAt: integer("created_at").notNull(),
    updatedAt: integer("updated_at").notNull(),
  },
  (t) => [
    uniqueIndex("participant_sessions_participant_sid_uq").on(t.participantSid),
    index("participant_sessions_room_session_idx").on(t.roomSessionId, t.joinedAt),
    index("participant_sessions_project_joined_idx").on(t.projectId, t.joinedAt),
    index("participant_sessions_org_id_idx").on(t.orgId),
    index("participant_sessions_open_idx").on(t.leftAt, t.joinedAt),
    index("participant_sessions_room_sid_idx").on(t.roomSid),
    // A room's connected participants, which its end closes: only open sessions are in it.
    index("participant_sessions_open_by_room_idx").on(t.projectId, t.room).where(sql`left_at IS NULL`),
  ],
);

/**
 * One LiveKit room lifetime (`room_started` … `room_finished`, keyed by LiveKit's room sid), the
 * history behind `GET /v1/sessions`. The counters are recomputed from the participant sessions in
 * the batch that changes them, so replays and races never double count.
 */
export const roomSessions = sqliteTable(
  "room_sessions",
  {
    id: text("id").primaryKey(),
    projectId: text("project_id").notNull().references(() => projects.id, { onDelete: "cascade" }),
    orgId: text("org_id").notNull().references(() => organizations.id, { onDelete: "cascade" }),
    /** The tenant's own room name (namespace stripped). */
    room: text("room").notNull(),
    /** LiveKit's `RM_…` sid; null only when LiveKit's events carried none. */
    roomSid: text("room_sid"),
    startedAt: integer("started_at").notNull(),
    /** Null while the room is live. */
    endedAt: integer("ended_at"),
    /** Distinct identities that joined. */
    participantCount: integer("participant_count").notNull().default(0),
    peakParticipants: integer("peak_participants").notNull().default(0),
    participantMinutes: integer("participant_minutes").notNull().default(0),
    createdAt: integer("created_at").notNull(),
    updatedAt: integer("updated_at").notNull(),
  },
  (t) => [
    uniqueIndex("room_sessions_room_sid_uq").on(t.roomSid),
    index("room_sessions_project_started_idx").on(t.projectId, t.startedAt, t.id),
    index("room_sessions_project_room_started_idx").on(t.projectId, t.room, t.startedAt, t.id),
    index("room_sessions_org_id_idx").on(t.orgId),
    // Retention of ended room lifetimes, oldest first.
    index("room_sessions_ended_at_idx").on(t.endedAt),
  ],
);

/**
 * Room names a project may have live in LiveKit (from its CreateRoom calls and `room_started`
 * events): the `names` filter of `ListRooms`, so listing never asks LiveKit about other tenants.
 * A name leaves when its room finishes or is deleted, or when LiveKit no longer knows it.
 */
export const knownRooms = sqliteTable(
  "known_rooms",
  {
    projectId: text("project_id").notNull().references(() => projects.id, { onDelete: "cascade" }),
    /** The tenant's own room name. */
    name: text("name").notNull(),
    lastSeenAt: integer("last_seen_at").notNull(),
  },
  (t) => [primaryKey({ columns: [t.projectId, t.name] })],
);

export const egresses = sqliteTable(
  "egresses",
  {
    id: text("id").primaryKey(),
    /** LiveKit's `EG_…` id. */
    egressId: text("egress_id").notNull(),
    projectId: text("project_id").notNull().references(() => projects.id, { onDelete: "cascade" }),
    orgId: text("org_id").notNull().references(() => organizations.id, { onDelete: "cascade" }),
    type: text("type", { enum: ["room_composite", "track", "web", "participant", "track_composite"] }).notNull(),
    /** Tenant's own room name (null for web egress). */
    room: text("room"),
    status: text("status").notNull(),
    /** JSON of the requested outputs with every credential removed. */
    outputs: text("outputs").notNull().default("[]"),
    error: text("error"),
    startedAt: integer("started_at"),
    endedAt: integer("ended_at"),
    createdAt: integer("created_at").notNull(),
    updatedAt: integer("updated_at").notNull(),
    /** JSON of LiveKit's results (files, streams, playlists, images), secrets redacted (`egress/results.ts`). */
    results: text("results"),
  },
  (t) => [
    uniqueIndex("egresses_egress_id_uq").on(t.egressId),
    index("egresses_project_created_idx").on(t.projectId, t.createdAt, t.id),
    index("egresses_project_room_idx").on(t.projectId, t.room, t.createdAt, t.id),
    index("egresses_project_status_idx").on(t.projectId, t.status),
    index("egresses_org_id_idx").on(t.orgId),
    index("egresses_ended_at_idx").on(t.endedAt),
  ],
);

export const ingresses = sqliteTable(
  "ingresses",
  {
    id: text("id").primaryKey(),
    /** LiveKit's `IN_…` id. */
    ingressId: text("ingress_id").notNull(),
    projectId: text("project_id").notNull().references(() => projects.id, { onDelete: "cascade" }),
    orgId: text("org_id").notNull().references(() => organizations.id, { onDelete: "cascade" }),
    inputType: text("input_type", { enum: ["rtmp", "whip", "url"] }).notNull(),
    name: text("name").notNull().default(""),
    room: text("room").notNull(),
    participantIdentity: text("participant_identity").notNull(),
    url: text("url"),
    /** AES-GCM sealed stream key (returned to the tenant, never stored in the clear). */
    streamKeyEncrypted: text("stream_key_encrypted"),
    status: text("status").notNull(),
    error: text("error"),
    startedAt: integer("started_at"),
    endedAt: integer("ended_at"),
    createdAt: integer("created_at").notNull(),
    updatedAt: integer("updated_at").notNull(),
    deletedAt: integer("deleted_at"),
  },
  (t) => [
    uniqueIndex("ingresses_ingress_id_uq").on(t.ingressId),
    index("ingresses_project_created_idx").on(t.projectId, t.createdAt, t.id),
    index("ingresses_project_room_idx").on(t.projectId, t.room, t.createdAt, t.id),
    index("ingresses_org_id_idx").on(t.orgId),
    index("ingresses_deleted_at_idx").on(t.deletedAt),
  ],
);

export const usageEvents = sqliteTable(
  "usage_events",
  {
    id: text("id").primaryKey(),
    projectId: text("project_id").notNull().references(() => projects.id, { onDelete: "cascade" }),
    orgId: text("org_id").notNull().references(() => organizations.id, { onDelete: "cascade" }),
    /** A meter of `METERS` (src/usage/meters.ts); any text to SQLite, so adding a meter needs no migration. */
    meter: text("meter").notNull(),
    quantity: real("quantity").notNull(),
    /** When the usage happened (what the rollup buckets by). */
    occurredAt: integer("occurred_at").notNull(),
    /** Idempotency key: the same source never meters twice. */
    sourceId: text("source_id").notNull(),
    /** The tenant's room and the participant identity the usage belongs to, when it has them (`group_by`). */
    room: text("room"),
    identity: text("identity"),
    createdAt: integer("created_at").notNull(),
  },
  (t) => [
    uniqueIndex("usage_events_source_uq").on(t.meter, t.sourceId),
    // Live-window reads of a project or an org (covering: no table lookups).
    index("usage_events_project_occurred_idx").on(t.projectId, t.occurredAt, t.meter, t.quantity),
    index("usage_events_org_occurred_idx").on(t.orgId, t.occurredAt, t.meter, t.quantity),
    // The hourly rollup reads one hour of every project (covering), and retention deletes by time.
    index("usage_events_occurred_at_idx").on(t.occurredAt, t.projectId, t.orgId, t.meter, t.quantity),
  ],
);

/**
 * Hours (UTC, bucket start in ms) that received usage events since they were last rolled up. A
 * trigger on `usage_events` marks the hour of every inserted event (custom migration
 * `usage_dirty_hours_trigger`), so no code path can meter without its hour being rolled up; the
 * rollup job clears an hour in the same batch that rolls it up.
 */
export const usageDirtyHours = sqliteTable("usage_dirty_hours", {
  hourStart: integer("hour_start").primaryKey(),
  markedAt: integer("marked_at").notNull(),
});

export const usageRollups = sqliteTable(
  "usage_rollups",
  {
    projectId: text("project_id").notNull().references(() => projects.id, { onDelete: "cascade" }),
    orgId: text("org_id").notNull().references(() => organizations.id, { onDelete: "cascade" }),
    meter: text("meter").notNull(),
    granularity: text("granularity", { enum: ["hour", "day"] }).notNull(),
    bucketStart: integer("bucket_start").notNull(),
    quantity: real("quantity").notNull(),
    updatedAt: integer("updated_at").notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.projectId, t.meter, t.granularity, t.bucketStart] }),
    // An org's or a project's usage (covering, so the planner never prefers the all-tenants
    // bucket index below for a tenant's read).
    index("usage_rollups_org_idx").on(t.orgId, t.granularity, t.bucketStart, t.meter, t.quantity),
    index("usage_rollups_project_bucket_idx").on(t.projectId, t.granularity, t.bucketStart, t.meter, t.quantity),
    // The day rollup sums one day's hour buckets of every project (covering).
    index("usage_rollups_bucket_idx").on(t.granularity, t.bucketStart, t.projectId, t.orgId, t.meter, t.quantity),
  ],
);

/**
 * Usage per room and per identity (`dimension` = `room` | `identity`, `key` = its value), rolled up
 * like `usage_rollups` so `group_by` keeps working after raw events are deleted.
 */
export const usageDimensionRollups = sqliteTable(
  "usage_dimension_rollups",
  {
    projectId: text("project_id").notNull().references(() => projects.id, { onDelete: "cascade" }),
    orgId: text("org_id").notNull().references(() => organizations.id, { onDelete: "cascade" }),
    dimension: text("dimension", { enum: ["room", "identity"] }).notNull(),
    key: text("key").notNull(),
    meter: text("meter").notNull(),
    granularity: text("granularity", { enum: ["hour", "day"] }).notNull(),
    bucketStart: integer("bucket_start").notNull(),
    quantity: real("quantity").notNull(),
    updatedAt: integer("updated_at").notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.projectId, t.dimension, t.granularity, t.bucketStart, t.key, t.meter] }),
    index("usage_dimension_rollups_org_idx").on(t.orgId, t.dimension, t.granularity, t.bucketStart, t.key, t.meter, t.quantity),
    // The day rollup sums one day's hour buckets (covering), and retention deletes old hours.
    index("usage_dimension_rollups_bucket_idx").on(t.granularity, t.bucketStart, t.projectId, t.orgId, t.dimension, t.key, t.meter, t.quantity),
  ],
);

export const invoices = sqliteTable(
  "invoices",
  {
    id: text("id").primaryKey(),
    orgId: text("org_id").notNull().references(() => organizations.id, { onDelete: "cascade" }),
    planId: text("plan_id").notNull().references(() => plans.id),
    periodStart: integer("period_start").notNull(),
    periodEnd: integer("period_end").notNull(),
    status: text("status", { enum: ["draft", "open", "paid", "void"] }).notNull(),
    currency: text("currency").notNull().default("usd"),
    subtotalCents: integer("subtotal_cents").notNull(),
    totalCents: integer("total_cents").notNull(),
    createdAt: integer("created_at").notNull(),
    finalizedAt: integer("finalized_at"),
  },
  (t) => [
    uniqueIndex("invoices_org_period_uq").on(t.orgId, t.periodStart),
    index("invoices_org_created_idx").on(t.orgId, t.createdAt, t.id),
    index("invoices_plan_id_idx").on(t.planId),
    index("invoices_status_idx").on(t.status),
  ],
);

export const invoiceLines = sqliteTable(
  "invoice_lines",
  {
    id: text("id").primaryKey(),
    invoiceId: text("invoice_id").notNull().references(() => invoices.id, { onDelete: "cascade" }),
    /** A meter name, or `plan` for the base fee. */
    kind: text("kind").notNull(),
    description: text("description").notNull(),
    quantity: real("quantity").notNull(),
    includedQuantity: real("included_quantity").notNull().default(0),
    unitPriceMicros: integer("unit_price_micros").notNull().default(0),
    amountCents: integer("amount_cents").notNull(),
    createdAt: integer("created_at").notNull(),
  },
  (t) => [index("invoice_lines_invoice_id_idx").on(t.invoiceId)],
);

/**
 * Row counts behind `GET /metrics`, kept by triggers on the counted tables (custom migration
 * `metric_counts_triggers`) so a scrape reads a handful of rows instead of counting whole tables.
 * `label` is '' for unlabelled gauges.
 */
export const metricCounts = sqliteTable(
  "metric_counts",
  {
    name: text("name").notNull(),
    label: text("label").notNull().default(""),
    value: integer("value").notNull().default(0),
  },
  (t) => [primaryKey({ columns: [t.name, t.label] })],
);

/**
 * An operator-set allow-list of origins a project's web egress may load (`PUT
 * /v1/admin/projects/{project_id}/web-egress-origins`). No row: any public origin.
 */
export const projectWebEgressOrigins = sqliteTable("project_web_egress_origins", {
  projectId: text("project_id")
    .primaryKey()
    .references(() => projects.id, { onDelete: "cascade" }),
  /** JSON array of origins (`https://app.example.com`), as `URL.origin` spells them. */
  origins: text("origins").notNull(),
  updatedAt: integer("updated_at").notNull(),
});
