import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { createDb } from "../../src/db/client";
import { setClock } from "../../src/lib/clock";
import { closeStaleRoomSessions } from "../../src/sessions/record";
import { call, expectEnvelope } from "../support/api";
import { createTenant } from "../support/factories";
import { useFakeLivekit } from "../support/fake-livekit";
import { deliverLivekitEvent } from "../support/livekit-webhook";
import { join, left, roomFinished, roomStarted, wire } from "../support/rooms";

const livekit = useFakeLivekit();
const MIN = 60_000;

describe("a room's day, from creation to its session in the history", () => {
  it("creates, joins, lists, mutes, updates, removes and deletes, then shows the session with its participants and minutes, and group_by=room agrees", async () => {
    const t = await createTenant();
    const key = { token: t.key.secret };
    const t0 = Date.now() - 30 * MIN;

    const created = await call("POST", "/v1/rooms", { ...key, body: { name: "studio" } });
    expect(created.status, created.text).toBe(201);
    await roomStarted(livekit, t.project.id, "studio", t0);
    const room = { sid: created.body.sid as string, name: wire(t.project.id, "studio") };
    const alice = await join(livekit, t.project.id, "studio", { identity: "alice", name: "Alice", tracks: [{ type: "AUDIO", source: "MICROPHONE", name: "mic", muted: false }] }, t0);
    const bob = await join(livekit, t.project.id, "studio", { identity: "bob", name: "Bob" }, t0 + MIN);

    const participants = await call("GET", "/v1/rooms/studio/participants", key);
    expect(participants.body.data.map((p: any) => p.identity).sort()).toEqual(["alice", "bob"]);
    const live = await call("GET", "/v1/sessions", key);
    expect(live.body.data).toHaveLength(1);
    expect(live.body.data[0]).toMatchObject({ room: "studio", room_sid: room.sid, ended_at: null, participants: 2, participant_count: 2, peak_participants: 2 });

    expect((await call("POST", "/v1/rooms/studio/participants/alice/mute", { ...key, body: { track_sid: alice.tracks[0]!.sid, muted: true } })).status).toBe(200);
    expect((await call("PATCH", "/v1/rooms/studio", { ...key, body: { metadata: "recording soon" } })).status).toBe(200);
    expect((await call("DELETE", "/v1/rooms/studio/participants/bob", key)).status).toBe(204);
    await left(room, bob, t0 + MIN, t0 + 11 * MIN);
    expect((await call("DELETE", "/v1/rooms/studio", key)).status).toBe(204);
    await left(room, alice, t0, t0 + 20 * MIN + 10_000);
    await roomFinished(room, t0 + 21 * MIN);

    const list = await call("GET", "/v1/sessions", key);
    expect(list.status, list.text).toBe(200);
    expect(list.body.next_cursor).toBeNull();
    const [session] = list.body.data;
    expect(session).toEqual({
      id: expect.stringMatching(/^rs_/),
      room: "studio",
      room_sid: room.sid,
      started_at: new Date(Math.floor(t0 / 1000) * 1000).toISOString().replace(".000Z", "Z"),
      ended_at: new Date(t0 + 21 * MIN).toISOString().replace(/\.\d{3}Z$/, "Z"),
      participants: 2,
      participant_count: 2,
      peak_participants: 2,
      participant_minutes: 21 + 10,
      egress_minutes: 0,
    });

    const detail = await call("GET", `/v1/sessions/${session.id}`, key);
    expect(detail.status, detail.text).toBe(200);
    expect(detail.body.participant_count).toBe(2);
    expect(detail.body.participants.map((p: any) => [p.identity, p.name, p.minutes])).toEqual([
      ["alice", "Alice", 21],
      ["bob", "Bob", 10],
    ]);
    expect(detail.body.participants[1].left_at).toBe(new Date(t0 + 11 * MIN).toISOString().replace(/\.\d{3}Z$/, "Z"));

    const byRoom = await call("GET", "/v1/usage?group_by=room", key);
    expect(byRoom.status, byRoom.text).toBe(200);
    expect(byRoom.body.series).toBeUndefined();
    expect(byRoom.body.groups).toEqual([{ key: "studio", participant_minutes: session.participant_minutes, egress_minutes: 0, ingress_minutes: 0, tokens_issued: 0 }]);
    const byIdentity = await call("GET", `/v1/projects/${t.project.id}/usage?group_by=identity`, { token: t.user.token });
    expect(byIdentity.body.groups.map((g: any) => [g.key, g.participant_minutes])).toEqual([["alice", 21], ["bob", 10]]);
    // The member view of the same history.
    const members = await call("GET", `/v1/projects/${t.project.id}/sessions/${session.id}`, { token: t.user.token });
    expect(members.body.participants).toEqual(detail.body.participants);
  });
});

describe("room sessions when LiveKit's events are lost or repeated", () => {
  it("opens a session from the first participant when room_started is lost, and ends it when the room's next lifetime starts", async () => {
    const t = await createTenant();
    const t0 = Date.now() - 60 * MIN;
    const first = { sid: "RM_first" + crypto.randomUUID().slice(0, 8), name: wire(t.project.id, "lobby") };
    await deliverLivekitEvent({ event: "participant_joined", createdAt: String(t0), room: first, participant: { sid: "PA_a" + crypto.randomUUID(), identity: "ann", joinedAtMs: String(t0) } });
    const pa = { sid: "PA_b" + crypto.randomUUID(), identity: "ann", name: "", metadata: "", attributes: {}, joined_at: "0", permission: {}, tracks: [] };
    await deliverLivekitEvent({ event: "participant_joined", createdAt: String(t0 + MIN), room: first, participant: { sid: pa.sid, identity: "ann", joinedAtMs: String(t0 + MIN) } });
    await left(first, pa, t0 + MIN, t0 + 5 * MIN);
    // room_finished was lost; LiveKit starts the room again with a new sid.
    const second = { sid: "RM_second" + crypto.randomUUID().slice(0, 8), name: first.name };
    await deliverLivekitEvent({ event: "room_started", createdAt: String(t0 + 30 * MIN), room: { ...second, creationTime: String(Math.floor((t0 + 30 * MIN) / 1000)) } });

    const list = await call("GET", "/v1/sessions?room=lobby", { token: t.key.secret });
    expect(list.body.data.map((s: any) => [s.room_sid, s.ended_at === null])).toEqual([
      [second.sid, true],
      [first.sid, false],
    ]);
    const old = list.body.data[1];
    // One identity (reconnected), both connections open at t0+1min.
    expect(old).toMatchObject({ participant_count: 1, peak_participants: 2, started_at: new Date(t0).toISOString().replace(/\.\d{3}Z$/, "Z") });
    expect(old.ended_at).toBe(new Date(t0 + 5 * MIN).toISOString().replace(/\.\d{3}Z$/, "Z"));
  });

  it("starts a session at the earliest time any event gives, and another project's events with the same sid change nothing of it", async () => {
    const t = await createTenant();
    const other = await createTenant();
    const t0 = Date.now() - 40 * MIN;
    const sid = "RM_late" + crypto.randomUUID().slice(0, 8);
    const room = { sid, name: wire(t.project.id, "late") };
    const at = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, "Z");
    const startedAt = async () => (await call("GET", "/v1/sessions?room=late", { token: t.key.secret })).body.data.map((s: any) => s.started_at);

    await deliverLivekitEvent({ event: "participant_joined", createdAt: String(t0 + 2 * MIN), room, participant: { sid: "PA_" + crypto.randomUUID(), identity: "lee", joinedAtMs: String(t0 + 2 * MIN) } });
    expect(await startedAt()).toEqual([at(t0 + 2 * MIN)]);
    // room_started arrives late, with the room's true creation time: the earlier start wins.
    await deliverLivekitEvent({ event: "room_started", createdAt: String(t0), room: { ...room, creationTime: String(Math.floor(t0 / 1000)) } });
    expect(await startedAt()).toEqual([at(Math.floor(t0 / 1000) * 1000)]);
    // A later start changes nothing.
    await deliverLivekitEvent({ event: "participant_joined", createdAt: String(t0 + 5 * MIN), room, participant: { sid: "PA_" + crypto.randomUUID(), identity: "max", joinedAtMs: String(t0 + 5 * MIN) } });
    expect(await startedAt()).toEqual([at(Math.floor(t0 / 1000) * 1000)]);

    // Another project's room with the same LiveKit sid and an earlier start: its session is not
    // made, and this one's start and counts stay as they were.
    const theirs = { sid, name: wire(other.project.id, "late") };
    await deliverLivekitEvent({ event: "room_started", createdAt: String(t0 - 10 * MIN), room: { ...theirs, creationTime: String(Math.floor((t0 - 10 * MIN) / 1000)) } });
    await deliverLivekitEvent({ event: "participant_joined", createdAt: String(t0 - 9 * MIN), room: theirs, participant: { sid: "PA_" + crypto.randomUUID(), identity: "eve", joinedAtMs: String(t0 - 9 * MIN) } });
    const mine = (await call("GET", "/v1/sessions?room=late", { token: t.key.secret })).body.data;
    expect(mine).toHaveLength(1);
    expect(mine[0]).toMatchObject({ started_at: at(Math.floor(t0 / 1000) * 1000), participant_count: 2 });
    expect((await call("GET", "/v1/sessions", { token: other.key.secret })).body.data).toEqual([]);
  });

  it("counts nothing twice when LiveKit repeats an event under a new id", async () => {
    const t = await createTenant();
    const t0 = Date.now() - 20 * MIN;
    const room = { sid: "RM_rep" + crypto.randomUUID().slice(0, 8), name: wire(t.project.id, "rep") };
    const participant = { sid: "PA_" + crypto.randomUUID(), identity: "zoe", joinedAtMs: String(t0) };
    for (let i = 0; i < 2; i++) await deliverLivekitEvent({ event: "participant_joined", createdAt: String(t0), room, participant });
    for (let i = 0; i < 2; i++) await deliverLivekitEvent({ event: "participant_left", createdAt: String(t0 + 3 * MIN), room, participant });
    for (let i = 0; i < 2; i++) await deliverLivekitEvent({ event: "room_finished", createdAt: String(t0 + 4 * MIN), room });
    const [s] = (await call("GET", "/v1/sessions", { token: t.key.secret })).body.data;
    expect(s).toMatchObject({ participant_count: 1, peak_participants: 1, participant_minutes: 3 });
    expect(s.ended_at).toBe(new Date(t0 + 4 * MIN).toISOString().replace(/\.\d{3}Z$/, "Z"));
  });

  it("ends a session whose room_finished was lost once everyone has been gone past the timeout", async () => {
    const t = await createTenant();
    const t0 = Date.now() - 60 * MIN;
    const room = { sid: "RM_stale" + crypto.randomUUID().slice(0, 8), name: wire(t.project.id, "stale") };
    const participant = { sid: "PA_" + crypto.randomUUID(), identity: "sam", joinedAtMs: String(t0) };
    await deliverLivekitEvent({ event: "participant_joined", createdAt: String(t0), room, participant });
    await deliverLivekitEvent({ event: "participant_left", createdAt: String(t0 + 2 * MIN), room, participant });
    const db = createDb(env.DB);
    await closeStaleRoomSessions(db, 12);
    expect((await call("GET", "/v1/sessions", { token: t.key.secret })).body.data[0].ended_at).toBeNull();
    setClock(() => t0 + 13 * 3600_000);
    expect(await closeStaleRoomSessions(db, 12)).toBeGreaterThanOrEqual(1);
    setClock(null);
    const [s] = (await call("GET", "/v1/sessions", { token: t.key.secret })).body.data;
    expect(s.ended_at).toBe(new Date(t0 + 2 * MIN).toISOString().replace(/\.\d{3}Z$/, "Z"));
  });
});

describe("reading sessions", () => {
  it("pages newest first with a cursor, filters by room and time, and hides other projects' sessions", async () => {
    const t = await createTenant();
    const other = await createTenant();
    const base = Date.now() - 10 * 3600_000;
    for (let i = 0; i < 5; i++) {
      const room = { sid: `RM_p${i}${crypto.randomUUID().slice(0, 8)}`, name: wire(t.project.id, i % 2 ? "odd" : "even"), creationTime: String(Math.floor((base + i * 3600_000) / 1000)) };
      await deliverLivekitEvent({ event: "room_started", createdAt: String(base + i * 3600_000), room });
    }
    const key = { token: t.key.secret };
    const first = await call("GET", "/v1/sessions?limit=2", key);
    expect(first.body.data.map((s: any) => s.room)).toEqual(["even", "odd"]);
    const second = await call("GET", `/v1/sessions?limit=2&cursor=${first.body.next_cursor}`, key);
    const third = await call("GET", `/v1/sessions?limit=2&cursor=${second.body.next_cursor}`, key);
    expect([...first.body.data, ...second.body.data, ...third.body.data].map((s: any) => s.started_at)).toEqual(
      [4, 3, 2, 1, 0].map((i) => new Date(base + i * 3600_000).toISOString().replace(/\.\d{3}Z$/, "Z")),
    );
    expect(third.body.next_cursor).toBeNull();
    expect((await call("GET", "/v1/sessions?room=odd", key)).body.data).toHaveLength(2);
    const since = new Date(base + 2 * 3600_000).toISOString();
    const until = new Date(base + 4 * 3600_000).toISOString();
    expect((await call("GET", `/v1/sessions?since=${since}&until=${until}`, key)).body.data).toHaveLength(2);

    const mine = first.body.data[0].id;
    expectEnvelope(await call("GET", `/v1/sessions/${mine}`, { token: other.key.secret }), 404, "not_found");
    expectEnvelope(await call("GET", `/v1/projects/${t.project.id}/sessions/${mine}`, { token: other.user.token }), 404, "not_found");
    expectEnvelope(await call("GET", `/v1/projects/${other.project.id}/sessions/${mine}`, { token: other.user.token }), 404, "not_found");
    expect((await call("GET", "/v1/sessions", { token: other.key.secret })).body.data).toEqual([]);
    expectEnvelope(await call("GET", "/v1/sessions/rs_missing", key), 404, "not_found");
    expectEnvelope(await call("GET", "/v1/sessions?limit=101", key), 400, "validation_failed");
    expectEnvelope(await call("GET", "/v1/sessions?since=yesterday", key), 400, "validation_failed");
  });

  it("needs usage:read", async () => {
    const t = await createTenant();
    const res = await call("POST", `/v1/projects/${t.project.id}/keys`, { token: t.user.token, body: { name: "tokens", scopes: ["tokens:write"] } });
    expectEnvelope(await call("GET", "/v1/sessions", { token: res.body.secret }), 403, "forbidden");
    expectEnvelope(await call("GET", "/v1/sessions"), 401, "unauthenticated");
  });
});
