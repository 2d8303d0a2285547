/**
 * The inbound consumer on batches of stored events: Queues' batch handed to the Worker's real
 * `queue` handler (`createMessageBatch`), against real D1, with D1's round trips counted by a
 * pass-through wrapper of the binding. Expected minutes are computed here from the events'
 * times, not by the code under test.
 */
import { createExecutionContext, createMessageBatch, getQueueResult } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import worker from "../../src/index";
import { COMMIT_EVENTS } from "../../src/inbound/process";
import { setClock } from "../../src/lib/clock";
import { runCron } from "../support/cron";
import { rows } from "../support/db";
import { createTenant } from "../support/factories";
import { eventBody, livekitJwt, participant, processedEvent, secs, sessionsOf, usageOf } from "../support/livekit-webhook";
import { createEndpoint, fakeReceiver, receiverHost } from "../support/webhook-receiver";
import { BASE } from "../support/api";
import { fetchWithEnv } from "../support/worker-env";

afterEach(() => {
  vi.restoreAllMocks();
});

/**
 * `env.DB`, counting every round trip (a statement's `all`/`run`/`raw`/`first`, or one `batch`);
 * the `failBatch`th batch (0-based) fails as D1 does when it cannot commit, and writes nothing.
 */
function countingDb(failBatch = -1) {
  const counter = { trips: 0, batchSizes: [] as number[] };
  const count = <S extends object>(stmt: S): S => {
    const s = stmt as Record<string, unknown>;
    for (const method of ["all", "run", "raw", "first"]) {
      const original = (s[method] as (...a: unknown[]) => unknown).bind(stmt);
      s[method] = (...args: unknown[]) => {
        counter.trips++;
        return original(...args);
      };
    }
    const bind = (s.bind as (...a: unknown[]) => S).bind(stmt);
    s.bind = (...args: unknown[]) => count(bind(...args));
    return stmt;
  };
  const db = {
    prepare: (sql: string) => count(env.DB.prepare(sql)),
    batch: (statements: D1PreparedStatement[]) => {
      counter.trips++;
      counter.batchSizes.push(statements.length);
      if (counter.batchSizes.length - 1 === failBatch) return Promise.reject(new Error("D1_ERROR: database is locked"));
      return env.DB.batch(statements);
    },
    exec: (sql: string) => env.DB.exec(sql),
  } as unknown as D1Database;
  return { db, counter };
}

let storedSeq = 0;

/** Stores an event the way the webhook route does (raw body, LiveKit's time), without queueing it. */
async function store(event: Record<string, unknown>, receivedAt = Date.now()): Promise<{ id: string; eventId: string }> {
  const body = eventBody(event);
  const parsed = JSON.parse(body) as { id: string; createdAt: string; room?: { name?: string } };
  const id = `lke_batch${Date.now().toString(36)}${storedSeq++}`;
  await env.DB.prepare("INSERT INTO livekit_events (id, event_id, event, room_name, payload, occurred_at, received_at) VALUES (?, ?, ?, ?, ?, ?, ?)")
    .bind(id, parsed.id, event.event, parsed.room?.name ?? null, body, Number(parsed.createdAt) * 1000, receivedAt)
    .run();
  return { id, eventId: parsed.id };
}

/** Runs the Worker's queue handler on one batch of the inbound queue with these message bodies. */
async function consumeMessages(bodies: unknown[], db: D1Database = env.DB) {
  const batch = createMessageBatch(
    "pulse-inbound",
    bodies.map((body, i) => ({ id: `qm-${i}-${Math.random()}`, timestamp: new Date(), attempts: 1, body })),
  );
  const ctx = createExecutionContext();
  await worker.queue(batch, { ...env, DB: db }, ctx);
  const result = await getQueueResult(batch, ctx);
  const index = new Map(batch.messages.map((m, i) => [m.id, i]));
  return { ...result, retried: result.retryMessages.map((r: { msgId: string }) => index.get(r.msgId)!), acked: result.explicitAcks.map((a: string) => index.get(a)!) };
}

/** One batch of the inbound queue carrying `ids`, one message each. */
async function consume(ids: string[], db: D1Database = env.DB) {
  const result = await consumeMessages(ids.map((id) => ({ kind: "livekit_events", ids: [id] })), db);
  return { ...result, retriedIds: result.retried.map((i: number) => ids[i]!), ackedIds: result.acked.map((i: number) => ids[i]!) };
}

/** Deterministic shuffle (so a failure reproduces). */
function shuffled<T>(items: T[], seed = 7): T[] {
  const out = [...items];
  let x = seed;
  for (let i = out.length - 1; i > 0; i--) {
    x = (x * 1103515245 + 12345) % 2147483648;
    const j = x % (i + 1);
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

const T0 = Date.UTC(2026, 10, 30, 9, 0, 0);
const minutes = (from: number, to: number) => Math.ceil(Math.max(0, to - from) / 60_000);

/** A new tenant's room where `count` participants (`user-0`…) joined one second apart from T0, consumed. */
async function roomWhereAllJoined(count: number, tag: string, name: string) {
  const { project } = await createTenant();
  const room = { sid: `RM_${tag}${Date.now().toString(36)}`, name: `${project.id}:${name}` };
  const who = Array.from({ length: count }, (_, p) => participant(`PA_${tag}${p}_${room.sid}`, `user-${p}`, T0 + p * 1000));
  const joins = [];
  for (const [p, w] of who.entries()) joins.push(await store({ event: "participant_joined", createdAt: secs(T0 + p * 1000), room, participant: w }));
  expect((await consume(joins.map((j) => j.id))).retriedIds).toEqual([]);
  return { project, room, who };
}

describe("the inbound consumer on a batch", () => {
  it("applies events that arrived shuffled (leaves before joins, the room's end first) as their serial order, in a few D1 round trips", async () => {
    const { user, project } = await createTenant();
    const host = receiverHost();
    const received = fakeReceiver(host, [200]);
    await createEndpoint(user.token, project.id, { url: `https://${host}/all` });

    const events: Record<string, unknown>[] = [];
    const expected = new Map<string, number>();
    for (let r = 0; r < 3; r++) {
      const room = { sid: `RM_b${r}`, name: `${project.id}:room-${r}` };
      const finished = T0 + 20 * 60_000;
      events.push({ event: "room_started", createdAt: secs(T0), room });
      for (let p = 0; p < 4; p++) {
        const sid = `PA_b${r}${p}`;
        const joined = T0 + (p * 10 + r) * 1000;
        const who = participant(sid, `user-${p}`, joined);
        events.push({ event: "participant_joined", createdAt: secs(joined), room, participant: who });
        if (p < 3) {
          const left = joined + (p + 1) * 65_000;
          events.push({ event: "participant_left", createdAt: secs(left), room, participant: who });
          expected.set(sid, minutes(Math.floor(joined / 1000) * 1000, Math.floor(left / 1000) * 1000));
        } else {
          expected.set(sid, minutes(Math.floor(joined / 1000) * 1000, finished)); // closed by the room's end
        }
      }
      events.push({ event: "room_finished", createdAt: secs(finished), room });
    }
    const stored = [];
    for (const [i, e] of shuffled(events).entries()) stored.push(await store(e, Date.now() + i));

    const { db, counter } = countingDb();
    const result = await consume(stored.map((s) => s.id), db);
    expect(result.retriedIds).toEqual([]);
    expect(result.ackedIds.sort()).toEqual(stored.map((s) => s.id).sort());
    // One event at a time took six or more round trips each (here: 30 events). Now: the load, the
    // look-ups (projects, endpoints, leaves' sessions) in one batch, and one batch per wave (starts
    // and joins; leaves, whose sessions the first wave's batch reads back; the rooms' ends, each of
    // which reads its room's open sessions first).
    expect(counter.trips).toBe(5 + 3);
    expect(counter.batchSizes[0]).toBe(3);

    const sessions = await sessionsOf(project.id);
    expect(Object.fromEntries(sessions.map((s) => [s.participant_sid, s.minutes]))).toEqual(Object.fromEntries(expected));
    expect(sessions.filter((s) => s.end_reason === "room_finished").map((s) => s.participant_sid).sort()).toEqual(["PA_b03", "PA_b13", "PA_b23"]);
    const usage = await usageOf(project.id);
    expect(Object.fromEntries(usage.map((u) => [u.source_id, u.quantity]))).toEqual(Object.fromEntries(expected));
    const roomSessions = await rows<{ room: string; participant_minutes: number; ended_at: number | null }>(
      "SELECT room, participant_minutes, ended_at FROM room_sessions WHERE project_id = ? ORDER BY room",
      project.id,
    );
    expect(roomSessions.map((r) => [r.room, r.participant_minutes, r.ended_at])).toEqual(
      [0, 1, 2].map((r) => [`room-${r}`, [0, 1, 2, 3].reduce((sum, p) => sum + expected.get(`PA_b${r}${p}`)!, 0), T0 + 20 * 60_000]),
    );
    // Every event became one message to the endpoint, delivered once each through the real queue.
    await vi.waitFor(() => expect(received).toHaveLength(events.length), { timeout: 20_000, interval: 100 });
    expect(new Set(received.map((r) => r.headers["webhook-id"])).size).toBe(events.length);

    // The same batch again (Queues delivers at least once): skipped, nothing changes or is sent twice.
    const again = await consume(stored.map((s) => s.id));
    expect(again.retriedIds).toEqual([]);
    expect(await sessionsOf(project.id)).toEqual(sessions);
    expect((await usageOf(project.id)).length).toBe(usage.length);
    expect((await rows("SELECT id FROM webhook_messages WHERE project_id = ?", project.id)).length).toBe(events.length);
  });

  it("commits a wave of 2 × COMMIT_EVENTS + 11 events in batches of at most COMMIT_EVENTS, one after another, with the room's counters as a serial run's", async () => {
    const { project } = await createTenant();
    const room = { sid: `RM_wave${Date.now().toString(36)}`, name: `${project.id}:big` };
    const events: Record<string, unknown>[] = [{ event: "room_started", createdAt: secs(T0), room }];
    const joins = 2 * COMMIT_EVENTS + 10;
    for (let p = 0; p < joins; p++) events.push({ event: "participant_joined", createdAt: secs(T0 + p * 1000), room, participant: participant(`PA_w${p}_${room.sid}`, `user-${p}`, T0 + p * 1000) });
    const stored = [];
    for (const [i, e] of events.entries()) stored.push(await store(e, Date.now() + i));

    const { db, counter } = countingDb();
    const result = await consume(stored.map((s) => s.id), db);
    expect(result.retriedIds).toEqual([]);
    // The look-ups, then: joins and the room's start read nothing another writes, one wave,
    // committed in three batches.
    expect(counter.batchSizes).toHaveLength(1 + 3);
    const [lifetime] = await rows<{ participant_count: number; peak_participants: number; started_at: number }>(
      "SELECT participant_count, peak_participants, started_at FROM room_sessions WHERE room_sid = ?",
      room.sid,
    );
    expect(lifetime).toEqual({ participant_count: joins, peak_participants: joins, started_at: T0 });
    expect((await sessionsOf(project.id)).filter((s) => s.left_at === null)).toHaveLength(joins);
    const marked = await rows<{ n: number }>(`SELECT COUNT(*) AS n FROM livekit_events WHERE project_id = ? AND processed_at IS NOT NULL`, project.id);
    expect(marked[0]!.n).toBe(joins + 1);
  });

  it("closes leaves whose sessions already belong to the room session without linking them again, and still records a new name", async () => {
    const { project, room, who } = await roomWhereAllJoined(10, "leave", "leaves");

    const leaves = [];
    for (const [p, w] of who.entries()) {
      const renamed = p === 0 ? { ...w, name: "Renamed at the door" } : w;
      leaves.push(await store({ event: "participant_left", createdAt: secs(T0 + 5 * 60_000 + p * 1000), room, participant: renamed }));
    }
    const { db, counter } = countingDb();
    expect((await consume(leaves.map((l) => l.id), db)).retriedIds).toEqual([]);
    // Shared by all ten leaves: closing their sessions, metering them, the room session's upsert,
    // the end of earlier lifetimes, the link of the renamed one (which carries the name; the others
    // are linked already) and the recount; one processed mark. Before it, the look-ups' batch.
    expect(counter.batchSizes).toEqual([3, 2 + 4 + 1]);
    const sessions = await sessionsOf(project.id);
    expect(sessions.map((s) => [s.identity, s.name, s.room_session_id !== null, s.left_at !== null])).toEqual(
      who.map((w, p) => [w.identity, p === 0 ? "Renamed at the door" : w.identity, true, true]),
    );
    const [lifetime] = await rows<{ participant_count: number; participant_minutes: number }>("SELECT participant_count, participant_minutes FROM room_sessions WHERE room_sid = ?", room.sid);
    expect(lifetime).toEqual({ participant_count: 10, participant_minutes: 10 * 5 });
  });

  it("ends a room of 40 participants in a batch of the same few statements as a room of one, metering each session", async () => {
    const { project, room, who } = await roomWhereAllJoined(40, "end", "crowd");

    const end = T0 + 30 * 60_000;
    const finished = await store({ event: "room_finished", createdAt: secs(end), room });
    const { db, counter } = countingDb();
    expect((await consume([finished.id], db)).retriedIds).toEqual([]);
    // Close and meter (2), the room session's upsert, end of earlier lifetimes, its end and recount,
    // the room name forgotten (5), the processed mark (1): none of them per participant. Before
    // it, the look-ups' batch, and the room's sessions (open ones, and ones the timeout closed) read together.
    expect(counter.batchSizes).toEqual([3, 2, 8]);
    const usage = await usageOf(project.id);
    expect(new Map(usage.map((u) => [u.source_id, u.quantity]))).toEqual(new Map(who.map((w, p) => [w.sid, minutes(T0 + p * 1000, end)])));
    const expected = who.reduce((sum, _, p) => sum + minutes(T0 + p * 1000, end), 0);
    const sessions = await sessionsOf(project.id);
    expect(sessions.every((s) => s.left_at === end && s.end_reason === "room_finished")).toBe(true);
    const [lifetime] = await rows("SELECT ended_at, participant_count, participant_minutes FROM room_sessions WHERE room_sid = ?", room.sid);
    expect(lifetime).toEqual({ ended_at: end, participant_count: 40, participant_minutes: expected });
  });

  it("in one batch, ends a room's earlier lifetime at its last leave when the next one starts, and keeps the last name a participant was sent with", async () => {
    const { project } = await createTenant();
    const tag = Date.now().toString(36);
    const older = { sid: `RM_old${tag}`, name: `${project.id}:again` };
    const newer = { sid: `RM_new${tag}`, name: `${project.id}:again` };
    const a = participant(`PA_a${tag}`, "a", T0);
    const b = participant(`PA_b${tag}`, "b", T0 + 10 * 60_000);
    const events = [
      { event: "participant_joined", createdAt: secs(T0), room: older, participant: a },
      { event: "participant_left", createdAt: secs(T0 + 3 * 60_000), room: older, participant: { ...a, name: "A, later" } },
      { event: "participant_joined", createdAt: secs(T0 + 10 * 60_000), room: newer, participant: { ...b, name: "B" } },
      { event: "participant_joined", createdAt: secs(T0 + 10 * 60_000), room: newer, participant: { ...b, name: "B, renamed" } },
    ];
    const stored = [];
    for (const [i, e] of events.entries()) stored.push(await store(e, Date.now() + i));
    expect((await consume(shuffled(stored.map((s) => s.id)))).retriedIds).toEqual([]);

    const lifetimes = await rows("SELECT room_sid, started_at, ended_at, participant_count, participant_minutes, peak_participants FROM room_sessions WHERE project_id = ? ORDER BY started_at", project.id);
    expect(lifetimes).toEqual([
      { room_sid: older.sid, started_at: T0, ended_at: T0 + 3 * 60_000, participant_count: 1, participant_minutes: 3, peak_participants: 1 },
      { room_sid: newer.sid, started_at: T0 + 10 * 60_000, ended_at: null, participant_count: 1, participant_minutes: 0, peak_participants: 1 },
    ]);
    const sessions = await sessionsOf(project.id);
    expect(sessions.map((s) => [s.participant_sid, s.name])).toEqual([
      [a.sid, "A, later"],
      [b.sid, "B, renamed"],
    ]);
  });

  it("remembers the rooms a wave of joins went to in one statement, each at its latest join, and forgets a room at its end unless it was joined again", async () => {
    const { project } = await createTenant();
    const tag = Date.now().toString(36);
    const room = (r: number, sid = `RM_known${r}_${tag}`) => ({ sid, name: `${project.id}:known-${r}` });
    const joins = [];
    const joinCount = COMMIT_EVENTS + 5;
    for (let p = 0; p < joinCount; p++) {
      const at = T0 + p * 1000;
      joins.push(await store({ event: "participant_joined", createdAt: secs(at), room: room(p % 3), participant: participant(`PA_known${p}_${tag}`, `user-${p}`, at) }));
    }
    const { db, counter } = countingDb();
    expect((await consume(joins.map((j) => j.id), db)).retriedIds).toEqual([]);
    // After the look-ups, one wave of COMMIT_EVENTS + 5 joins, committed in two batches: the same
    // few statements in each, none per join.
    const [, ...commits] = counter.batchSizes;
    expect(commits).toHaveLength(2);
    expect(commits[0]).toBe(commits[1]);
    expect(commits[0]).toBeLessThanOrEqual(8);
    const known = () => rows<{ name: string; last_seen_at: number }>("SELECT name, last_seen_at FROM known_rooms WHERE project_id = ? ORDER BY name", project.id);
    // Each room at its latest join (join p went to room p % 3).
    const lastJoin = (r: number) => joinCount - 1 - ((joinCount - 1 - r) % 3);
    expect(await known()).toEqual([0, 1, 2].map((r) => ({ name: `known-${r}`, last_seen_at: T0 + lastJoin(r) * 1000 })));

    // Room 0 ends and is created anew (another sid) with a join a second later; room 1 just ends.
    const end = T0 + (joinCount + 70) * 1000;
    const later = [
      await store({ event: "room_finished", createdAt: secs(end), room: room(0) }),
      await store({ event: "participant_joined", createdAt: secs(end + 1000), room: room(0, `RM_known0again_${tag}`), participant: participant(`PA_knownagain_${tag}`, "user-again", end + 1000) }),
      await store({ event: "room_finished", createdAt: secs(end), room: room(1) }),
    ];
    expect((await consume(later.map((e) => e.id))).retriedIds).toEqual([]);
    expect(await known()).toEqual([
      { name: "known-0", last_seen_at: end + 1000 },
      { name: "known-2", last_seen_at: T0 + lastJoin(2) * 1000 },
    ]);
  });

  it("closes the leaves of a batch whose joins' commit failed and was made event by event, reading their sessions alone", async () => {
    const { project } = await createTenant();
    const room = { sid: `RM_refail${Date.now().toString(36)}`, name: `${project.id}:refail` };
    const events = [];
    for (let p = 0; p < 3; p++) {
      const who = participant(`PA_refail${p}_${room.sid}`, `user-${p}`, T0 + p * 1000);
      events.push({ event: "participant_joined", createdAt: secs(T0 + p * 1000), room, participant: who });
      events.push({ event: "participant_left", createdAt: secs(T0 + (p + 2) * 60_000), room, participant: who });
    }
    const stored = [];
    for (const [i, e] of events.entries()) stored.push(await store(e, Date.now() + i));
    // Batch 0 is the look-ups, batch 1 the joins' commit (with the leaves' sessions read at its end).
    const { db, counter } = countingDb(1);
    expect((await consume(stored.map((s) => s.id), db)).retriedIds).toEqual([]);
    // The joins again one by one (3), then the leaves' sessions on their own, then the leaves' commit.
    expect(counter.batchSizes).toHaveLength(2 + 3 + 2);
    expect(counter.batchSizes.at(-2)).toBe(1);
    const sessions = await sessionsOf(project.id);
    expect(sessions.map((s) => [s.identity, s.minutes, s.end_reason])).toEqual([0, 1, 2].map((p) => [`user-${p}`, minutes(T0 + p * 1000, T0 + (p + 2) * 60_000), "left"]));
    expect((await usageOf(project.id)).map((u) => u.quantity)).toEqual(sessions.map((s) => s.minutes));
    const [lifetime] = await rows("SELECT participant_count, participant_minutes FROM room_sessions WHERE room_sid = ?", room.sid);
    expect(lifetime).toEqual({ participant_count: 3, participant_minutes: sessions.reduce((sum, s) => sum + s.minutes, 0) });
  });

  it("retries only the event it cannot process and acknowledges the rest of the batch", async () => {
    const { project } = await createTenant();
    const good = await store({ event: "participant_joined", room: { sid: "RM_g", name: `${project.id}:g` }, participant: participant("PA_good", "g", Date.now()) });
    const bad = `lke_unreadable${Date.now().toString(36)}`;
    await env.DB.prepare("INSERT INTO livekit_events (id, event_id, event, room_name, payload, occurred_at, received_at) VALUES (?, ?, 'participant_joined', NULL, 'not json', ?, ?)")
      .bind(bad, `EV_${bad}`, Date.now(), Date.now())
      .run();
    const result = await consume([good.id, bad]);
    expect(result.retriedIds).toEqual([bad]);
    expect(result.ackedIds).toEqual([good.id]);
    expect((await sessionsOf(project.id)).map((s) => s.participant_sid)).toEqual(["PA_good"]);
    expect((await rows("SELECT processed_at FROM livekit_events WHERE id = ?", bad))[0]).toEqual({ processed_at: null });
  });
});

describe("queue messages carrying several events", () => {
  it("retries only the message holding the event that failed, and still reads one-event messages of earlier versions", async () => {
    const { project } = await createTenant();
    const room = { sid: `RM_multi${Date.now().toString(36)}`, name: `${project.id}:multi` };
    const good = [];
    for (let i = 0; i < 4; i++) good.push(await store({ event: "participant_joined", createdAt: secs(Date.now()), room, participant: participant(`PA_m${i}_${room.sid}`, `m${i}`, Date.now()) }));
    const bad = `lke_unreadable${Date.now().toString(36)}m`;
    await env.DB.prepare("INSERT INTO livekit_events (id, event_id, event, room_name, payload, occurred_at, received_at) VALUES (?, ?, 'participant_joined', NULL, 'not json', ?, ?)")
      .bind(bad, `EV_${bad}`, Date.now(), Date.now())
      .run();
    const result = await consumeMessages([
      { kind: "livekit_events", ids: [good[0]!.id, good[1]!.id] },
      { kind: "livekit_events", ids: [good[2]!.id, bad] },
      { kind: "livekit_event", id: good[3]!.id },
      { kind: "livekit_events", ids: [42] },
    ]);
    expect(result.retried).toEqual([1]);
    // The unreadable message (an id that is not text) is acknowledged and logged, not retried forever.
    expect(result.acked.sort()).toEqual([0, 2, 3]);
    expect((await sessionsOf(project.id)).map((s) => s.participant_sid).sort()).toEqual(good.map((_, i) => `PA_m${i}_${room.sid}`).sort());
    expect((await rows("SELECT processed_at FROM livekit_events WHERE id = ?", bad))[0]).toEqual({ processed_at: null });
  });

  it("sends the ids of events stored together in shared messages, each id once, and every event gets processed", async () => {
    const { project } = await createTenant();
    const sent: { body: { kind: string; ids: string[] } }[] = [];
    const recording = {
      send: () => Promise.reject(new Error("the route sends batches")),
      sendBatch: (messages: { body: { kind: string; ids: string[] } }[]) => {
        sent.push(...messages);
        return env.INBOUND_QUEUE.sendBatch(messages);
      },
    };
    const room = { sid: `RM_many${Date.now().toString(36)}`, name: `${project.id}:many` };
    const bodies = Array.from({ length: 30 }, (_, i) =>
      eventBody({ event: "participant_joined", room, participant: participant(`PA_c${i}_${room.sid}`, `c${i}`, Date.now()) }),
    );
    const answers = await Promise.all(
      bodies.map(async (body) =>
        fetchWithEnv(
          { INBOUND_QUEUE: recording },
          new Request(`${BASE}/v1/livekit/webhook`, {
            method: "POST",
            headers: { "Content-Type": "application/webhook+json", Authorization: await livekitJwt(body), "CF-Connecting-IP": "192.0.2.81" },
            body,
          }),
        ),
      ),
    );
    expect(answers.map((r) => r.status)).toEqual(bodies.map(() => 200));
    const storedIds = (await rows<{ id: string }>("SELECT id FROM livekit_events WHERE room_name = ?", room.name)).map((r) => r.id);
    expect(storedIds).toHaveLength(30);
    const sentIds = sent.flatMap((m) => m.body.ids);
    expect(sent.every((m) => m.body.kind === "livekit_events")).toBe(true);
    expect(sentIds.sort()).toEqual(storedIds.sort());
    // Thirty requests at once share messages (how many depends on timing; one each would be 30).
    expect(sent.length).toBeLessThan(30);
    for (const body of bodies) await processedEvent(JSON.parse(body).id as string);
    expect(await sessionsOf(project.id)).toHaveLength(30);
  });
});

describe("a lost queue send", () => {
  it("still answers LiveKit 200 with the event stored, and the safety net gets it processed a minute later", async () => {
    const { project } = await createTenant();
    const body = eventBody({ event: "participant_joined", room: { sid: "RM_lost", name: `${project.id}:lost` }, participant: participant("PA_lost", "l", Date.now()) });
    const unreachable = {
      send: () => Promise.reject(new Error("Queue send failed: network connection lost")),
      sendBatch: () => Promise.reject(new Error("Queue send failed: network connection lost")),
    };
    const res = await fetchWithEnv(
      { INBOUND_QUEUE: unreachable },
      new Request(`${BASE}/v1/livekit/webhook`, {
        method: "POST",
        headers: { "Content-Type": "application/webhook+json", Authorization: await livekitJwt(body), "CF-Connecting-IP": "192.0.2.80" },
        body,
      }),
    );
    expect(res.status).toBe(200);
    const eventId = JSON.parse(body).id as string;
    expect(await rows("SELECT processed_at FROM livekit_events WHERE event_id = ?", eventId)).toEqual([{ processed_at: null }]);

    // Within the minute the safety net leaves it alone (its send may still be on the way) ...
    await runCron("*/5 * * * *");
    await new Promise((r) => setTimeout(r, 300));
    expect(await rows("SELECT processed_at FROM livekit_events WHERE event_id = ?", eventId)).toEqual([{ processed_at: null }]);
    // ... and after it, enqueues it again for the real consumer.
    setClock(() => Date.now() + 2 * 60_000);
    await runCron("*/5 * * * *");
    setClock(null);
    await processedEvent(eventId);
    expect((await sessionsOf(project.id)).map((s) => s.participant_sid)).toEqual(["PA_lost"]);
  });
});
