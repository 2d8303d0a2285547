/**
 * LiveKit events the safety net gave up on, as platform operators see and re-drive them:
 * `GET /v1/admin/livekit-events/abandoned` and `POST /v1/admin/livekit-events/abandoned/requeue`.
 * A requeued event goes through the real inbound queue and consumer, so its effects are the proof
 * that it is back in line. Other test files may give up on events of their own in the same
 * database: these tests only count on rows they made.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { call, expectEnvelope, type ApiResponse } from "../support/api";
import { rows } from "../support/db";
import { createTenant, createUser } from "../support/factories";
import { eventBody, participant, processedEvent, secs, sessionsOf } from "../support/livekit-webhook";

const ADMIN = env.PULSE_ADMIN_TOKEN!;
const LIST = "/v1/admin/livekit-events/abandoned";
const REQUEUE = "/v1/admin/livekit-events/abandoned/requeue";

let seq = 0;
/** Times as the API writes them (RFC 3339, whole seconds). */
const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, "Z");

/**
 * A stored LiveKit event as the safety net leaves one it gave up on: unprocessed, requeued
 * MAX_REQUEUES times, `abandoned_at` set. Its payload is a real join in the tenant's room.
 */
async function givenUp(projectId: string, abandonedAt: number, opts: { processedAt?: number } = {}) {
  const id = `lke_ab${Date.now().toString(36)}${seq++}`;
  const sid = `PA_ab${seq}${Math.random().toString(36).slice(2, 6)}`;
  const joinedAt = Date.UTC(2026, 10, 30, 9, 0, seq % 60);
  const body = eventBody({ event: "participant_joined", createdAt: secs(joinedAt), room: { sid: "RM_ab", name: `${projectId}:desk` }, participant: participant(sid, `id-${seq}`, joinedAt) });
  const eventId = JSON.parse(body).id as string;
  await env.DB.prepare(
    "INSERT INTO livekit_events (id, event_id, event, room_name, payload, occurred_at, received_at, processed_at, requeues, abandoned_at) VALUES (?, ?, 'participant_joined', ?, ?, ?, ?, ?, 12, ?)",
  )
    .bind(id, eventId, `${projectId}:desk`, body, joinedAt, joinedAt, opts.processedAt ?? null, abandonedAt)
    .run();
  return { id, eventId, sid, receivedAt: joinedAt, abandonedAt };
}

/** Every page of the list, followed by `next_cursor` with `limit` per page. */
async function listAll(limit: number) {
  const items: any[] = [];
  let cursor: string | null = null;
  do {
    const res: ApiResponse = await call("GET", `${LIST}?limit=${limit}${cursor ? `&cursor=${cursor}` : ""}`, { token: ADMIN });
    expect(res.status, res.text).toBe(200);
    expect(res.body.data.length).toBeLessThanOrEqual(limit);
    items.push(...res.body.data);
    cursor = res.body.next_cursor;
  } while (cursor);
  return items;
}

describe("LiveKit events given up on, for platform operators", () => {
  it("need the platform admin token: none, a user's session or a wrong token is 401", async () => {
    const user = await createUser();
    for (const [method, path, body] of [
      ["GET", LIST, undefined],
      ["POST", REQUEUE, {}],
    ] as const) {
      expectEnvelope(await call(method, path, { body }), 401, "unauthenticated");
      expectEnvelope(await call(method, path, { body, token: user.token }), 401, "unauthenticated");
      expectEnvelope(await call(method, path, { body, token: `${ADMIN}x` }), 401, "unauthenticated");
    }
  });

  it("lists the unprocessed ones newest first across pages, without their payloads, and leaves out the rest", async () => {
    const { project } = await createTenant();
    const base = Date.now() + 3_600_000;
    const older = await givenUp(project.id, base);
    const newer = await givenUp(project.id, base + 1_000);
    const sameTime = await givenUp(project.id, base + 1_000);
    const processedAfterAll = await givenUp(project.id, base + 2_000, { processedAt: base });
    await env.DB.prepare("INSERT INTO livekit_events (id, event_id, event, payload, occurred_at, received_at) VALUES (?, ?, 'room_started', '{}', ?, ?)")
      .bind(`lke_abinline${seq}`, `EV_abinline${seq}`, base, base)
      .run();

    const all = await listAll(2);
    const mine = all.filter((e) => e.room_name === `${project.id}:desk`);
    const [first, second] = [newer, sameTime].sort((a, b) => (a.id < b.id ? 1 : -1));
    expect(mine).toEqual([
      { id: first!.id, event_id: first!.eventId, event: "participant_joined", room_name: `${project.id}:desk`, received_at: iso(first!.receivedAt), requeues: 12, abandoned_at: iso(base + 1_000) },
      expect.objectContaining({ id: second!.id, abandoned_at: iso(base + 1_000) }),
      expect.objectContaining({ id: older.id, abandoned_at: iso(base) }),
    ]);
    expect(all.map((e) => e.id)).not.toContain(processedAfterAll.id);
    expect(all.map((e) => e.id)).not.toContain(`lke_abinline${seq}`);
    // The whole list is in (abandoned_at, id) order, newest first, each event once.
    const keys = all.map((e) => `${e.abandoned_at}|${e.id}`);
    expect(keys).toEqual([...keys].sort().reverse());
    expect(new Set(keys).size).toBe(keys.length);

    expectEnvelope(await call("GET", `${LIST}?cursor=not-a-cursor`, { token: ADMIN }), 400, "validation_failed");
    expectEnvelope(await call("GET", `${LIST}?limit=101`, { token: ADMIN }), 400, "validation_failed");
  });

  it("puts the named ones back in line, audited, and the inbound consumer then processes them", async () => {
    const { project } = await createTenant();
    const stuck = await givenUp(project.id, Date.now() - 60_000);
    const alreadyProcessed = await givenUp(project.id, Date.now() - 60_000, { processedAt: Date.now() });

    const res = await call("POST", REQUEUE, { token: ADMIN, body: { ids: [stuck.id, alreadyProcessed.id, "lke_doesnotexist"] } });
    expect(res.status, res.text).toBe(202);
    expect(res.body.requeued).toEqual([stuck.id]);
    expect(typeof res.body.more).toBe("boolean");

    // Back in line: the consumer joins the participant, as it would have the first time.
    await processedEvent(stuck.eventId);
    expect((await sessionsOf(project.id)).map((s) => s.participant_sid)).toEqual([stuck.sid]);
    expect(await rows("SELECT abandoned_at, requeues FROM livekit_events WHERE id = ?", stuck.id)).toEqual([{ abandoned_at: null, requeues: 0 }]);
    // The event that got processed anyway stays as it was.
    expect(await rows("SELECT requeues FROM livekit_events WHERE id = ? AND abandoned_at IS NOT NULL", alreadyProcessed.id)).toEqual([{ requeues: 12 }]);

    const audit = await rows<{ org_id: string | null; actor_type: string; actor_id: string; metadata: string }>(
      "SELECT org_id, actor_type, actor_id, metadata FROM audit_logs WHERE action = 'livekit_event.requeued' AND metadata LIKE ?",
      `%${stuck.id}%`,
    );
    expect(audit).toHaveLength(1);
    expect(audit[0]).toMatchObject({ org_id: null, actor_type: "system", actor_id: "platform_admin" });
    expect(JSON.parse(audit[0]!.metadata)).toEqual({ ids: [stuck.id] });

    // Again: nothing left to put back, so nothing changes and nothing is audited.
    const again = await call("POST", REQUEUE, { token: ADMIN, body: { ids: [stuck.id] } });
    expect(again.status).toBe(202);
    expect(again.body.requeued).toEqual([]);
    expect(await rows("SELECT id FROM audit_logs WHERE action = 'livekit_event.requeued' AND metadata LIKE ?", `%${stuck.id}%`)).toHaveLength(1);
  });

  it("audits exactly what each of two overlapping requeues at once put back", async () => {
    const { project } = await createTenant();
    const a = await givenUp(project.id, Date.now() - 60_000);
    const b = await givenUp(project.id, Date.now() - 60_000);
    const [one, both] = await Promise.all([
      call("POST", REQUEUE, { token: ADMIN, body: { ids: [a.id] } }),
      call("POST", REQUEUE, { token: ADMIN, body: { ids: [a.id, b.id] } }),
    ]);
    expect([one.status, both.status]).toEqual([202, 202]);
    // Each event was put back once, by one of them.
    expect([...one.body.requeued, ...both.body.requeued].sort()).toEqual([a.id, b.id].sort());
    const audited = await rows<{ request_id: string; metadata: string }>(
      "SELECT request_id, metadata FROM audit_logs WHERE action = 'livekit_event.requeued' AND (metadata LIKE ? OR metadata LIKE ?)",
      `%${a.id}%`,
      `%${b.id}%`,
    );
    const byRequest = new Map(audited.map((r) => [r.request_id, (JSON.parse(r.metadata) as { ids: string[] }).ids.sort()]));
    for (const res of [one, both]) {
      const id = res.headers.get("x-request-id")!;
      if (res.body.requeued.length === 0) expect(byRequest.has(id)).toBe(false);
      else expect(byRequest.get(id)).toEqual([...res.body.requeued].sort());
    }
    expect(audited).toHaveLength(new Set([one, both].filter((r) => r.body.requeued.length > 0)).size);
  });

  it("without ids, puts back the ones given up on longest ago first, at most `limit`, and says whether more remain", async () => {
    const { project } = await createTenant();
    // Given up on before any other test's (abandoned_at is a time; these are the earliest there are).
    const first = await givenUp(project.id, 1_000);
    const second = await givenUp(project.id, 2_000);
    const third = await givenUp(project.id, 3_000);

    const res = await call("POST", REQUEUE, { token: ADMIN, body: { limit: 2 } });
    expect(res.status, res.text).toBe(202);
    expect(res.body).toEqual({ requeued: expect.arrayContaining([first.id, second.id]), more: true });
    expect(res.body.requeued).toHaveLength(2);
    await processedEvent(first.eventId);
    await processedEvent(second.eventId);
    expect(await rows("SELECT abandoned_at FROM livekit_events WHERE id = ?", third.id)).toEqual([{ abandoned_at: 3_000 }]);

    const rest = await call("POST", REQUEUE, { token: ADMIN, body: { ids: [third.id] } });
    expect(rest.body.requeued).toEqual([third.id]);
    await processedEvent(third.eventId);
    expect((await sessionsOf(project.id)).map((s) => s.participant_sid).sort()).toEqual([first.sid, second.sid, third.sid].sort());
  });

  it("refuses a body that is not one: empty or too many ids, a bad limit, an unknown field", async () => {
    for (const body of [{ ids: [] }, { ids: Array.from({ length: 101 }, (_, i) => `lke_${i}`) }, { limit: 0 }, { limit: 101 }, { limit: 1.5 }, { all: true }, { ids: [42] }]) {
      expectEnvelope(await call("POST", REQUEUE, { token: ADMIN, body }), 400, "validation_failed");
    }
  });
});
