/**
 * The authorization matrix: every session-authenticated route that acts on an org or a project,
 * called by each role of the same org (allowed → its success status, else 403 `forbidden`), by a
 * signed-in user of another org (404 `not_found`, never revealing the resource exists) and with no
 * session (401).
 *
 * The expected minimum role of each row is written here from the contract, NOT read from
 * `src/authz/permissions.ts`, so a route that checks the wrong permission (or none) fails. The
 * first test enumerates the app's registered routes and fails when a route under
 * /v1/orgs/:org_id or /v1/projects/:project_id has no row here, so a new route cannot ship
 * without being classified.
 */
import { env } from "cloudflare:workers";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApp } from "../../src/app";
import { nowMs } from "../../src/lib/clock";
import { call, expectEnvelope } from "../support/api";
import { createApiKey, createOrg, createProject, createUser, type TestUser } from "../support/factories";
import { installFakeLivekit, type FakeLivekit } from "../support/fake-livekit";
import { deliverLivekitEvent } from "../support/livekit-webhook";

type Role = "owner" | "admin" | "member" | "viewer";
const ROLES: Role[] = ["viewer", "member", "admin", "owner"];
const rank = (r: Role) => ROLES.indexOf(r);

interface World {
  orgId: string;
  projectId: string;
  keyId: string;
  livekitKeyId: string;
  webhookId: string;
  messageId: string;
  invitationId: string;
  auditId: string;
  invoiceId: string;
  /** A viewer that member routes act on (never the caller, so removing them is not "leaving"). */
  targetId: string;
  /** A live room in the fake LiveKit with participant `identity` publishing `trackSid`, and its session. */
  room: string;
  identity: string;
  trackSid: string;
  sessionId: string;
  /** An egress recording the room (`eg_…`) and an ingress into it (`ing_…`). */
  egressRecordId: string;
  ingressRecordId: string;
}

interface Row {
  /** Exactly as Hono registers it: `METHOD /v1/…/:param`. */
  route: string;
  min: Role;
  ok: number;
  body?: (w: World) => unknown;
  /** False for GETs: one shared world serves every caller. */
  mutates: boolean;
}

const row = (route: string, min: Role, ok: number, body?: Row["body"]): Row => ({ route, min, ok, body, mutates: !route.startsWith("GET ") });

const WEBHOOK_HOST = "hooks.matrix.test";
/** A changing row builds a fresh world per allowed role (orgs, keys, webhooks, a live room): slow on a busy machine. */
const ROW_TIMEOUT_MS = 120_000;

const TABLE: Row[] = [
  // Organizations
  row("GET /v1/orgs/:org_id", "viewer", 200),
  row("PATCH /v1/orgs/:org_id", "admin", 200, () => ({ name: "Renamed" })),
  row("DELETE /v1/orgs/:org_id", "owner", 204),
  // Projects
  row("POST /v1/orgs/:org_id/projects", "admin", 201, () => ({ name: "Another" })),
  row("GET /v1/orgs/:org_id/projects", "viewer", 200),
  row("GET /v1/projects/:project_id", "viewer", 200),
  row("PATCH /v1/projects/:project_id", "admin", 200, () => ({ name: "Renamed" })),
  row("DELETE /v1/projects/:project_id", "admin", 204),
  // API keys: metadata from member up, changes by admins
  row("POST /v1/projects/:project_id/keys", "admin", 201, () => ({ name: "ci" })),
  row("GET /v1/projects/:project_id/keys", "member", 200),
  row("DELETE /v1/projects/:project_id/keys/:key_id", "admin", 204),
  row("POST /v1/projects/:project_id/keys/:key_id/roll", "admin", 201),
  // LiveKit keys: admin creates and deletes, member lists (never the secret)
  row("POST /v1/projects/:project_id/livekit-keys", "admin", 201, () => ({ name: "sdk" })),
  row("GET /v1/projects/:project_id/livekit-keys", "member", 200),
  row("DELETE /v1/projects/:project_id/livekit-keys/:lkk_id", "admin", 204),
  // Audit log
  row("GET /v1/orgs/:org_id/audit-logs", "viewer", 200),
  row("GET /v1/orgs/:org_id/audit-logs/export", "viewer", 200),
  row("GET /v1/orgs/:org_id/audit-logs/:id", "viewer", 200),
  // Team
  row("GET /v1/orgs/:org_id/members", "viewer", 200),
  row("PATCH /v1/orgs/:org_id/members/:user_id", "admin", 200, () => ({ role: "member" })),
  row("DELETE /v1/orgs/:org_id/members/:user_id", "admin", 204),
  row("POST /v1/orgs/:org_id/invitations", "admin", 201, () => ({ email: `new-${crypto.randomUUID()}@example.com`, role: "member" })),
  row("GET /v1/orgs/:org_id/invitations", "viewer", 200),
  row("DELETE /v1/orgs/:org_id/invitations/:inv_id", "admin", 204),
  // Webhook endpoints
  row("POST /v1/projects/:project_id/webhooks", "admin", 201, () => ({ url: `https://${WEBHOOK_HOST}/another` })),
  row("GET /v1/projects/:project_id/webhooks", "viewer", 200),
  row("GET /v1/projects/:project_id/webhooks/:whk_id", "viewer", 200),
  row("PATCH /v1/projects/:project_id/webhooks/:whk_id", "admin", 200, () => ({ description: "changed" })),
  row("DELETE /v1/projects/:project_id/webhooks/:whk_id", "admin", 204),
  row("POST /v1/projects/:project_id/webhooks/:whk_id/rotate-secret", "admin", 201),
  row("POST /v1/projects/:project_id/webhooks/:whk_id/test", "admin", 202),
  row("GET /v1/projects/:project_id/webhooks/:whk_id/deliveries", "viewer", 200),
  row("POST /v1/projects/:project_id/webhooks/:whk_id/deliveries/:msg_id/retry", "admin", 202),
  row("POST /v1/projects/:project_id/webhooks/:whk_id/recover", "admin", 202, () => ({ since: new Date(Date.now() - 3_600_000).toISOString() })),
  // Tokens from the dashboard (contract: "member also creates tokens in the dashboard")
  row("POST /v1/projects/:project_id/tokens", "member", 201, () => ({ identity: "tester", room: "lobby" })),
  // Usage
  row("GET /v1/projects/:project_id/usage", "viewer", 200),
  row("GET /v1/orgs/:org_id/usage", "viewer", 200),
  // Billing (contract: viewers read, owners change the plan)
  row("GET /v1/orgs/:org_id/billing", "viewer", 200),
  row("GET /v1/orgs/:org_id/invoices", "viewer", 200),
  row("GET /v1/orgs/:org_id/invoices/:in_id", "viewer", 200),
  row("PUT /v1/orgs/:org_id/plan", "owner", 200, () => ({ plan: "pro" })),
  // Rooms and participants, LiveKit's live state (ROUND2-NOTES: viewers read, admins change)
  row("POST /v1/projects/:project_id/rooms", "admin", 201, () => ({ name: `another-${crypto.randomUUID()}` })),
  row("GET /v1/projects/:project_id/rooms", "viewer", 200),
  row("GET /v1/projects/:project_id/rooms/:room", "viewer", 200),
  row("PATCH /v1/projects/:project_id/rooms/:room", "admin", 200, () => ({ metadata: "changed" })),
  row("DELETE /v1/projects/:project_id/rooms/:room", "admin", 204),
  row("POST /v1/projects/:project_id/rooms/:room/data", "admin", 202, () => ({ data: btoa("hello") })),
  row("GET /v1/projects/:project_id/rooms/:room/participants", "viewer", 200),
  row("GET /v1/projects/:project_id/rooms/:room/participants/:identity", "viewer", 200),
  row("PATCH /v1/projects/:project_id/rooms/:room/participants/:identity", "admin", 200, () => ({ permission: { can_publish: false } })),
  row("DELETE /v1/projects/:project_id/rooms/:room/participants/:identity", "admin", 204),
  row("POST /v1/projects/:project_id/rooms/:room/participants/:identity/mute", "admin", 200, (w) => ({ track_sid: w.trackSid, muted: true })),
  // Room sessions (history)
  row("GET /v1/projects/:project_id/sessions", "viewer", 200),
  row("GET /v1/projects/:project_id/sessions/:rs_id", "viewer", 200),
  // Egress and ingress records (ROUND2-NOTES: viewers read, admins stop egress)
  row("GET /v1/projects/:project_id/egress", "viewer", 200),
  row("GET /v1/projects/:project_id/egress/:eg_id", "viewer", 200),
  row("POST /v1/projects/:project_id/egress/:eg_id/stop", "admin", 200),
  row("GET /v1/projects/:project_id/ingress", "viewer", 200),
  row("GET /v1/projects/:project_id/ingress/:ing_id", "viewer", 200),
];

/** Routes that sit under the scoped prefixes; everything here must be classified in TABLE. */
const SCOPED = /^\/v1\/(orgs\/:org_id|projects\/:project_id)(\/|$)/;

function registeredScopedRoutes(): string[] {
  const seen = new Set<string>();
  for (const r of createApp().routes) {
    // Middleware is registered as ALL; real endpoints have a method.
    if (r.method === "ALL" || !SCOPED.test(r.path)) continue;
    seen.add(`${r.method} ${r.path}`);
  }
  return [...seen].sort();
}

function concretePath(route: string, w: World): { method: string; path: string } {
  const [method, template] = route.split(" ") as [string, string];
  const ids: Record<string, string> = {
    org_id: w.orgId,
    project_id: w.projectId,
    key_id: w.keyId,
    lkk_id: w.livekitKeyId,
    whk_id: w.webhookId,
    msg_id: w.messageId,
    inv_id: w.invitationId,
    id: w.auditId,
    in_id: w.invoiceId,
    user_id: w.targetId,
    room: w.room,
    identity: w.identity,
    rs_id: w.sessionId,
    eg_id: w.egressRecordId,
    ing_id: w.ingressRecordId,
  };
  const path = template.replace(/:([a-z_]+)/g, (_, name: string) => {
    const id = ids[name];
    if (!id) throw new Error(`No fixture for :${name} in ${route}; add one to World`);
    return id;
  });
  return { method, path };
}

let users: Record<Role | "target" | "outsider", TestUser>;

async function buildWorld(): Promise<World> {
  const founder = users.owner;
  // Each world is a new free org of one owner; earlier worlds move to pro so the free-org cap
  // (LIMIT_FREE_ORGS_PER_USER) never decides a row.
  await env.DB.prepare("UPDATE organizations SET plan_id = 'pro' WHERE id IN (SELECT org_id FROM memberships WHERE user_id = ? AND role = 'owner')")
    .bind(founder.id)
    .run();
  const org = await createOrg(founder, "Matrix");
  const at = nowMs();
  const insert = env.DB.prepare("INSERT INTO memberships (org_id, user_id, role, created_at, updated_at) VALUES (?, ?, ?, ?, ?)");
  await env.DB.batch([
    insert.bind(org.id, users.admin.id, "admin", at, at),
    insert.bind(org.id, users.member.id, "member", at, at),
    insert.bind(org.id, users.viewer.id, "viewer", at, at),
    insert.bind(org.id, users.target.id, "viewer", at, at),
  ]);
  const project = await createProject(founder, org.id);
  const key = await createApiKey(founder, project.id);
  const livekitKey = await call("POST", `/v1/projects/${project.id}/livekit-keys`, { token: founder.token, body: {} });
  expect(livekitKey.status, livekitKey.text).toBe(201);
  const webhook = await call("POST", `/v1/projects/${project.id}/webhooks`, { token: founder.token, body: { url: `https://${WEBHOOK_HOST}/hook` } });
  expect(webhook.status, webhook.text).toBe(201);
  const message = await call("POST", `/v1/projects/${project.id}/webhooks/${webhook.body.id}/test`, { token: founder.token });
  expect(message.status, message.text).toBe(202);
  const invitation = await call("POST", `/v1/orgs/${org.id}/invitations`, {
    token: founder.token,
    body: { email: `pending-${crypto.randomUUID()}@example.com`, role: "viewer" },
  });
  expect(invitation.status, invitation.text).toBe(201);
  const audit = await env.DB.prepare("SELECT id FROM audit_logs WHERE org_id = ? ORDER BY created_at LIMIT 1").bind(org.id).first<{ id: string }>();
  // Invoices are made by the billing cron; a closed past period stands in for one here.
  const invoiceId = `in_matrix${crypto.randomUUID().replace(/-/g, "")}`;
  await env.DB.prepare(
    "INSERT INTO invoices (id, org_id, plan_id, period_start, period_end, status, currency, subtotal_cents, total_cents, created_at, finalized_at) VALUES (?, ?, 'free', ?, ?, 'open', 'usd', 0, 0, ?, ?)",
  )
    .bind(invoiceId, org.id, Date.parse("2026-10-01T00:00:00Z"), Date.parse("2026-11-01T00:00:00Z"), at, at)
    .run();
  // A live room with a publishing participant, as LiveKit has it and as its webhooks told Pulse.
  const room = await call("POST", "/v1/rooms", { token: key.secret, body: { name: "matrix" } });
  expect(room.status, room.text).toBe(201);
  const participant = livekit.join(`${project.id}:matrix`, { identity: "alice", tracks: [{ type: "AUDIO", source: "MICROPHONE", name: "mic", muted: false }] });
  await deliverLivekitEvent({ event: "room_started", room: { sid: room.body.sid, name: `${project.id}:matrix` } });
  const session = await env.DB.prepare("SELECT id FROM room_sessions WHERE project_id = ?").bind(project.id).first<{ id: string }>();
  const egress = await call("POST", "/v1/egress", { token: key.secret, body: { type: "room_composite", room: "matrix", file_outputs: [{ filepath: "m.mp4" }] } });
  expect(egress.status, egress.text).toBe(201);
  const ingress = await call("POST", "/v1/ingress", { token: key.secret, body: { input_type: "rtmp", room: "matrix", participant_identity: "camera" } });
  expect(ingress.status, ingress.text).toBe(201);
  return {
    egressRecordId: egress.body.id,
    ingressRecordId: ingress.body.id,
    room: "matrix",
    identity: "alice",
    trackSid: participant.tracks[0]!.sid,
    sessionId: session!.id,
    orgId: org.id,
    projectId: project.id,
    keyId: key.id,
    livekitKeyId: livekitKey.body.id,
    webhookId: webhook.body.id,
    messageId: message.body.id,
    invitationId: invitation.body.id,
    auditId: audit!.id,
    invoiceId,
    targetId: users.target.id,
  };
}

function request(r: Row, w: World, token?: string) {
  const { method, path } = concretePath(r.route, w);
  return call(method, path, { token, body: r.body?.(w) });
}

// Webhook deliveries triggered by the fixtures go to a host that exists only here.
const realFetch = globalThis.fetch;
let shared: World;
let livekit: FakeLivekit;

beforeAll(async () => {
  globalThis.fetch = (async (input: RequestInfo | URL, init?: RequestInit) => {
    const url = new URL(input instanceof Request ? input.url : String(input));
    if (url.hostname === WEBHOOK_HOST) return new Response("ok", { status: 200 });
    return realFetch(input, init);
  }) as typeof fetch;
  livekit = installFakeLivekit();
  const [owner, admin, member, viewer, target, outsider] = await Promise.all(
    ["owner", "admin", "member", "viewer", "target", "outsider"].map((name) => createUser({ name })),
  );
  users = { owner: owner!, admin: admin!, member: member!, viewer: viewer!, target: target!, outsider: outsider! };
  await createOrg(users.outsider, "Elsewhere");
  shared = await buildWorld();
});

afterAll(() => {
  livekit.uninstall();
  expect(livekit.violations).toEqual([]);
  globalThis.fetch = realFetch;
});

describe("the role matrix", () => {
  it("classifies every registered route under /v1/orgs/:org_id and /v1/projects/:project_id", () => {
    const registered = registeredScopedRoutes();
    const classified = TABLE.map((r) => r.route);
    expect(registered.filter((r) => !classified.includes(r)), "routes with no row in the role matrix").toEqual([]);
    expect(classified.filter((r) => !registered.includes(r)), "rows for routes that no longer exist").toEqual([]);
    expect(new Set(classified).size).toBe(classified.length);
  });

  for (const r of TABLE) {
    const expectations = ROLES.map((role) => `${role} ${rank(role) >= rank(r.min) ? r.ok : 403}`).join(", ");
    it(`${r.route}: ${expectations}, another org's user 404, no session 401`, async () => {
      expectEnvelope(await request(r, shared), 401, "unauthenticated");
      expectEnvelope(await request(r, shared, users.outsider.token), 404, "not_found");
      for (const role of ROLES) {
        if (rank(role) >= rank(r.min)) continue;
        const res = await request(r, shared, users[role].token);
        if (res.status !== 403) throw new Error(`${role} on ${r.route}: expected 403, got ${res.status} ${res.text.slice(0, 300)}`);
        expectEnvelope(res, 403, "forbidden");
      }
      for (const role of ROLES) {
        if (rank(role) < rank(r.min)) continue;
        // A change gets a world of its own so one role's success cannot mask another's.
        const world = r.mutates ? await buildWorld() : shared;
        const res = await request(r, world, users[role].token);
        if (res.status !== r.ok) throw new Error(`${role} on ${r.route}: expected ${r.ok}, got ${res.status} ${res.text.slice(0, 300)}`);
      }
    }, ROW_TIMEOUT_MS);
  }
});
