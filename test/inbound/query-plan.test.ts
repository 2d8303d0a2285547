/**
 * The inbound path's look-ups must answer from an index whatever other tenants have: the plans are
 * asserted on small seeded tables after ANALYZE (throughput with a 100k backlog is `npm run
 * bench`'s job). Another tenant's pending messages outnumber ours a hundred to one, so a plan by
 * `status` alone would read theirs.
 */
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { createDb, readTogether } from "../../src/db/client";
import { projectStatesRead } from "../../src/inbound/attribution";
import { markProcessed, storedEventsQuery } from "../../src/inbound/process";
import { unprocessedEventsQuery } from "../../src/inbound/service";
import type { LivekitWebhookEvent } from "../../src/livekit/webhook-event";
import { rememberRooms } from "../../src/rooms/known-rooms";
import { participantRoomSessions, roomSessionEffects } from "../../src/sessions/record";
import { openSessionsInRoomQuery, sessionsBySidRead, sessionStatements } from "../../src/usage/participant-sessions";
import { enabledEndpointsRead, unsentMessagesQuery } from "../../src/webhooks/messages";
import { createTenant } from "../support/factories";
import { createEndpoint } from "../support/webhook-receiver";

let ours: { projectId: string; orgId: string };
let quietEndpointId: string;

beforeAll(async () => {
  const busy = await createTenant();
  const quiet = await createTenant();
  ours = { projectId: quiet.project.id, orgId: quiet.org.id };
  const busyEndpoint = await createEndpoint(busy.user.token, busy.project.id, { url: "https://busy.example.com/hook" });
  const quietEndpoint = await createEndpoint(quiet.user.token, quiet.project.id, { url: "https://quiet.example.com/hook" });
  quietEndpointId = quietEndpoint.id;
  const insert = env.DB.prepare(
    "INSERT INTO webhook_messages (id, project_id, endpoint_id, event_type, payload, status, attempts, source_id, next_attempt_at, created_at) VALUES (?, ?, ?, 'participant.joined', '{}', 'pending', 0, ?, ?, ?)",
  );
  const now = Date.now();
  const statements = [];
  for (let i = 0; i < 600; i++) statements.push(insert.bind(`msg_planbusy${i}`, busy.project.id, busyEndpoint.id, `EV_busy${i}`, now, now));
  for (let i = 0; i < 6; i++) statements.push(insert.bind(`msg_planquiet${i}`, quiet.project.id, quietEndpoint.id, `EV_quiet${i}`, now, now));
  const event = env.DB.prepare(
    "INSERT INTO livekit_events (id, event_id, event, room_name, payload, occurred_at, received_at, processed_at) VALUES (?, ?, 'room_started', 'r', '{}', ?, ?, ?)",
  );
  // Mostly processed history, a few unprocessed.
  for (let i = 0; i < 600; i++) statements.push(event.bind(`lke_plan${i}`, `EV_plan${i}`, now - i * 1000, now - i * 1000, i % 100 === 0 ? null : now));
  // The busy tenant's other projects and their endpoints: a batch reads those of its own.
  const project = env.DB.prepare("INSERT INTO projects (id, org_id, name, created_at, updated_at) VALUES (?, ?, ?, ?, ?)");
  const endpoint = env.DB.prepare("INSERT INTO webhook_endpoints (id, project_id, org_id, url, secret_encrypted, created_at, updated_at) VALUES (?, ?, ?, ?, 'x', ?, ?)");
  for (let i = 0; i < 300; i++) {
    statements.push(project.bind(`prj_planbusy${i}`, busy.org.id, `busy ${i}`, now, now));
    statements.push(endpoint.bind(`whe_planbusy${i}`, `prj_planbusy${i}`, busy.org.id, `https://busy.example.com/${i}`, now, now));
  }
  // The busy tenant's live rooms, one participant each: what a batch of ours must not read.
  const lifetime = env.DB.prepare(
    "INSERT INTO room_sessions (id, project_id, org_id, room, room_sid, started_at, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
  );
  const session = env.DB.prepare(
    "INSERT INTO participant_sessions (id, project_id, org_id, room, room_sid, participant_sid, identity, joined_at, room_session_id, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
  );
  for (let i = 0; i < 300; i++) {
    statements.push(lifetime.bind(`rs_planbusy${i}`, busy.project.id, busy.org.id, `room-${i % 30}`, `RM_planbusy${i}`, now - i * 1000, now, now));
    statements.push(session.bind(`ps_planbusy${i}`, busy.project.id, busy.org.id, `room-${i % 30}`, `RM_planbusy${i}`, `PA_planbusy${i}`, `u${i}`, now - i * 1000, `rs_planbusy${i}`, now, now));
  }
  await env.DB.batch(statements);
  await env.DB.prepare("ANALYZE").run();
});

/**
 * A plan line that reads room or participant sessions other than by the batch's own keys: a scan,
 * or an index that lists every tenant's rows (open rooms by `ended_at`, open sessions by `left_at`,
 * rows by org).
 */
const readsAcrossTenants = (line: string) =>
  /^SCAN (room_sessions|participant_sessions)\b/.test(line) ||
  /USING (COVERING )?INDEX (room_sessions_ended_at_idx|participant_sessions_open_idx|\w+_org_id_idx)\b/.test(line);

/** `run` with the planner's statistics dropped (`ANALYZE sqlite_schema` reloads them), then restored. */
async function withoutStatistics<T>(run: () => Promise<T>): Promise<T> {
  await env.DB.batch([env.DB.prepare("DELETE FROM sqlite_stat1"), env.DB.prepare("ANALYZE sqlite_schema")]);
  try {
    return await run();
  } finally {
    await env.DB.prepare("ANALYZE").run();
  }
}

async function planOf(query: unknown) {
  const { sql, params } = (query as { toSQL(): { sql: string; params: unknown[] } }).toSQL();
  const { results } = await env.DB.prepare(`EXPLAIN QUERY PLAN ${sql}`).bind(...params).all<{ detail: string }>();
  return results.map((r) => r.detail);
}

describe("the inbound path's query plans", () => {
  it("finds a project's unsent messages by its (project, source) index, never by status across tenants", async () => {
    const lines = await planOf(unsentMessagesQuery(createDb(env.DB), ours.projectId, ["EV_quiet1", "EV_quiet2", "EV_quiet3"]));
    expect(lines.join("\n")).toMatch(/^SEARCH webhook_messages USING INDEX webhook_messages_project_id_idx \(project_id=\? AND source_id=\?\)/m);
    expect(lines.filter((l) => /^SCAN /.test(l)), lines.join("\n")).toEqual([]);
    const found = await unsentMessagesQuery(createDb(env.DB), ours.projectId, ["EV_quiet1", "EV_quiet2", "EV_busy1"]).all();
    expect(found.map((r) => r.id).sort()).toEqual(["msg_planquiet1", "msg_planquiet2"]);
  });

  it("loads and marks a batch's stored events by primary key, however many ids it carries", async () => {
    const db = createDb(env.DB);
    const ids = Array.from({ length: 150 }, (_, i) => `lke_plan${i * 4}`);
    for (const query of [storedEventsQuery(db, ids), markProcessed(db, ours.projectId, ids, Date.now())]) {
      for (const lines of [await planOf(query), await withoutStatistics(() => planOf(query))]) {
        expect(lines.join("\n")).toMatch(/SEARCH livekit_events USING INDEX sqlite_autoindex_livekit_events_1 \(id=\?\)/);
        expect(lines.filter((l) => /^SCAN livekit_events\b/.test(l)), lines.join("\n")).toEqual([]);
      }
    }
    // More ids than D1 binds per statement, and a repeated one: each row once.
    const rows = await storedEventsQuery(db, [...ids, ids[0]!]).all();
    expect(rows.map((r) => r.id).sort()).toEqual([...ids].sort());
  });

  it("pages the safety net's unprocessed events through the partial index, oldest first, without a sort", async () => {
    const cutoff = Date.now();
    for (const after of [null, { receivedAt: cutoff - 300_000, id: "lke_plan300" }]) {
      const lines = await planOf(unprocessedEventsQuery(createDb(env.DB), cutoff, after, 500));
      expect(lines.join("\n"), lines.join("\n")).toMatch(/livekit_events USING (COVERING )?INDEX livekit_events_unprocessed_idx/);
      expect(lines.filter((l) => /TEMP B-TREE|^SCAN livekit_events$/.test(l)), lines.join("\n")).toEqual([]);
    }
    const page = await unprocessedEventsQuery(createDb(env.DB), Date.now() + 1000, null, 500).all();
    const seeded = page.filter((r) => r.id.startsWith("lke_plan")).map((r) => r.id);
    expect(seeded).toEqual(["lke_plan500", "lke_plan400", "lke_plan300", "lke_plan200", "lke_plan100", "lke_plan0"]);
  });

  it("applies a batch's room sessions and remembers its rooms by their indexes, never reading another tenant's rooms or sessions", async () => {
    const touches = [0, 1, 2].map((i) => ({ ...ours, room: `plan-room-${i}`, roomSid: `RM_planquiet${i}`, participantSid: `PA_planquiet${i}`, joinedAt: Date.now(), name: null, link: true }));
    const db = createDb(env.DB);
    const seen = touches.map((t) => ({ projectId: t.projectId, name: t.room, lastSeenAt: t.joinedAt }));
    const statements = [...participantRoomSessions(db, touches), ...rememberRooms(db, seen)];
    expect(statements).toHaveLength(5);
    for (const statement of statements) {
      for (const lines of [await planOf(statement), await withoutStatistics(() => planOf(statement))]) {
        expect(lines.filter(readsAcrossTenants), lines.join("\n")).toEqual([]);
      }
    }
  });

  it("ends a room's earlier lifetimes and finds its open one through the room's own index", async () => {
    const lifetime = { ...ours, room: "plan-room-0", roomSid: "RM_planquiet-next", participantSid: "PA_planquiet-next", joinedAt: Date.now(), name: null, link: false };
    const [, ended] = participantRoomSessions(createDb(env.DB), [lifetime]);
    // With statistics and without them (a database nobody has analyzed plans by heuristics).
    for (const lines of [await planOf(ended), await withoutStatistics(() => planOf(ended))]) {
      expect(lines.join("\n")).toMatch(/SEARCH room_sessions USING INDEX room_sessions_project_room_started_idx/);
      expect(lines.filter(readsAcrossTenants), lines.join("\n")).toEqual([]);
    }
  });

  it("starts and finishes one room's lifetime through the room's own indexes", async () => {
    const db = createDb(env.DB);
    const room = { sid: "RM_planquiet-started", name: `${ours.projectId}:plan-room-1`, creationTime: String(Math.floor(Date.now() / 1000)) };
    for (const event of ["room_started", "room_finished"]) {
      const { statements } = await roomSessionEffects(db, { event, room } as LivekitWebhookEvent, { ...ours, room: "plan-room-1" }, Date.now());
      expect(statements.length).toBeGreaterThan(1);
      for (const statement of statements) {
        for (const lines of [await planOf(statement), await withoutStatistics(() => planOf(statement))]) {
          expect(lines.filter(readsAcrossTenants), lines.join("\n")).toEqual([]);
        }
      }
    }
  });

  it("finds a finished room's connected participants by the open-sessions-by-room index, not the project's history", async () => {
    const query = openSessionsInRoomQuery(createDb(env.DB), ours, { room: "room-1", roomSid: "RM_planquiet-finished" });
    for (const lines of [await planOf(query), await withoutStatistics(() => planOf(query))]) {
      expect(lines.join("\n")).toMatch(/SEARCH participant_sessions USING INDEX participant_sessions_open_by_room_idx \(project_id=\? AND room=\?\)/);
      expect(lines.filter(readsAcrossTenants), lines.join("\n")).toEqual([]);
    }
  });

  it("closes a batch's participant sessions by their sid index, never reading another tenant's sessions", async () => {
    const session = (i: number) => ({ ...ours, participantSid: `PA_planquiet${i}`, joinedAt: Date.now() - 60_000, room: "plan-room", identity: `q${i}` });
    const closes = [0, 1, 2].map((i) => ({ session: session(i), leftAt: Date.now(), reason: "left" as const }));
    const statements = sessionStatements(createDb(env.DB), [{ opens: [], closes }]);
    expect(statements).toHaveLength(2);
    for (const lines of [await planOf(statements[0]), await withoutStatistics(() => planOf(statements[0]))]) {
      expect(lines.join("\n")).toMatch(/SEARCH participant_sessions USING INDEX participant_sessions_participant_sid_uq/);
      expect(lines.filter(readsAcrossTenants), lines.join("\n")).toEqual([]);
    }
  });

  it("reads a batch's project states, endpoints and leaving sessions by their keys, and only the batch's own rows", async () => {
    const db = createDb(env.DB);
    const states = projectStatesRead(db, [ours.projectId, ours.projectId]);
    const endpoints = enabledEndpointsRead(db, [ours.projectId]);
    const sessions = sessionsBySidRead(db, ["PA_planbusy1", "PA_planbusy2"]);
    const expected = [
      [states, /SEARCH projects USING INDEX sqlite_autoindex_projects_1 \(id=\?\)/],
      [endpoints, /SEARCH webhook_endpoints USING INDEX webhook_endpoints_project_id_created_at_idx \(project_id=\?\)/],
      [sessions, /SEARCH participant_sessions USING INDEX participant_sessions_participant_sid_uq \(participant_sid=\?\)/],
    ] as const;
    for (const [read, index] of expected) {
      for (const lines of [await planOf(read.statement), await withoutStatistics(() => planOf(read.statement))]) {
        expect(lines.join("\n"), lines.join("\n")).toMatch(index);
        expect(lines.filter((l) => /^SCAN (projects|webhook_endpoints|participant_sessions)\b/.test(l) || readsAcrossTenants(l)), lines.join("\n")).toEqual([]);
      }
    }
    // What each makes of its rows: ours only, the repeated id once.
    const [found, ourEndpoints, leaving] = await readTogether(db, [states, endpoints, sessions] as const);
    expect([...found.values()]).toEqual([{ ...ours, deletedAt: null }]);
    expect([...ourEndpoints.keys()]).toEqual([ours.projectId]);
    expect(ourEndpoints.get(ours.projectId)!.map((e) => e.id)).toEqual([quietEndpointId]);
    expect([...leaving.keys()].sort()).toEqual(["PA_planbusy1", "PA_planbusy2"]);
  });
});
