import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { call, expectEnvelope } from "../support/api";
import { createDb } from "../../src/db/client";
import { usageEventInsert } from "../../src/usage/record";
import { currentMonth } from "../../src/usage/service";
import { createApiKey, createTenant } from "../support/factories";
import { useFakeLivekit } from "../support/fake-livekit";
import { join, wire } from "../support/rooms";

const livekit = useFakeLivekit();

async function auditActions(projectId: string) {
  const { results } = await env.DB.prepare("SELECT action, metadata FROM audit_logs WHERE project_id = ? AND resource_type = 'room' ORDER BY created_at, rowid")
    .bind(projectId)
    .all<{ action: string; metadata: string }>();
  return results.map((r) => ({ action: r.action, ...JSON.parse(r.metadata) }));
}

const camera = { type: "VIDEO", source: "CAMERA", name: "cam", muted: false } as const;
const mic = { type: "AUDIO", source: "MICROPHONE", name: "mic", muted: false } as const;

describe("rooms through LiveKit's RoomService", () => {
  it("creates a room under the project's namespace and answers with the tenant's name; a live room cannot be created twice", async () => {
    const t = await createTenant();
    const res = await call("POST", "/v1/rooms", { token: t.key.secret, body: { name: "standup", empty_timeout: 600, max_participants: 8, metadata: "{\"topic\":\"daily\"}" } });
    expect(res.status, res.text).toBe(201);
    expect(res.body).toMatchObject({ name: "standup", num_participants: 0, max_participants: 8, empty_timeout: 600, metadata: "{\"topic\":\"daily\"}", active_recording: false });
    expect(res.body.sid).toMatch(/^RM_/);
    expect(res.body.created_at).toMatch(/^\d{4}-\d\d-\d\dT/);
    expect([...livekit.rooms.keys()]).toEqual([wire(t.project.id, "standup")]);
    const [create] = livekit.callsTo("CreateRoom");
    expect(create!.claims!.video).toEqual({ roomCreate: true });

    const again = await call("POST", "/v1/rooms", { token: t.key.secret, body: { name: "standup" } });
    expectEnvelope(again, 409, "conflict");
    expect(livekit.callsTo("CreateRoom")).toHaveLength(1);
  });

  it("lists only the project's live rooms, asking LiveKit for the project's own names, in pages with a cursor", async () => {
    const t = await createTenant();
    const other = await createTenant();
    for (const name of ["b-room", "a-room", "c-room"]) expect((await call("POST", "/v1/rooms", { token: t.key.secret, body: { name } })).status).toBe(201);
    expect((await call("POST", "/v1/rooms", { token: other.key.secret, body: { name: "a-room" } })).status).toBe(201);
    // Ended by LiveKit on its own (empty timeout): no longer listed.
    livekit.rooms.delete(wire(t.project.id, "c-room"));

    const first = await call("GET", "/v1/rooms?limit=1", { token: t.key.secret });
    expect(first.status, first.text).toBe(200);
    expect(first.body.data.map((r: any) => r.name)).toEqual(["a-room"]);
    expect(first.body.next_cursor).toEqual(expect.any(String));
    const rest = await call("GET", `/v1/rooms?limit=5&cursor=${first.body.next_cursor}`, { token: t.key.secret });
    expect(rest.body.data.map((r: any) => r.name)).toEqual(["b-room"]);
    expect(rest.body.next_cursor).toBeNull();

    for (const c of livekit.callsTo("ListRooms")) {
      expect(c.claims!.video).toEqual({ roomList: true });
      for (const name of c.body.names as string[]) expect(name.startsWith(`${t.project.id}:`) || name.startsWith(`${other.project.id}:`)).toBe(true);
    }
    const listCalls = livekit.callsTo("ListRooms").slice(-2);
    expect(listCalls.flatMap((c) => c.body.names as string[]).every((n) => n.startsWith(`${t.project.id}:`))).toBe(true);
    expectEnvelope(await call("GET", "/v1/rooms?cursor=%%%", { token: t.key.secret }), 400, "validation_failed");
  });

  it("pages a room's participants by identity with ?limit and ?cursor, and refuses limits outside 1..100", async () => {
    const t = await createTenant();
    const key = { token: t.key.secret };
    expect((await call("POST", "/v1/rooms", { ...key, body: { name: "hall" } })).status).toBe(201);
    const identities = Array.from({ length: 23 }, (_, i) => `p${String(i).padStart(2, "0")}`);
    for (const identity of [...identities].reverse()) await join(livekit, t.project.id, "hall", { identity });

    const first = await call("GET", "/v1/rooms/hall/participants", key);
    expect(first.status, first.text).toBe(200);
    expect(first.body.data.map((p: any) => p.identity)).toEqual(identities.slice(0, 20));
    expect(first.body.next_cursor).toEqual(expect.any(String));
    // Someone before the cursor leaving does not shift the next page.
    livekit.rooms.get(wire(t.project.id, "hall"))!.participants.delete("p03");
    const rest = await call("GET", `/v1/rooms/hall/participants?cursor=${first.body.next_cursor}`, key);
    expect([rest.body.data.map((p: any) => p.identity), rest.body.next_cursor]).toEqual([identities.slice(20), null]);
    const small = await call("GET", "/v1/rooms/hall/participants?limit=2", key);
    expect(small.body.data.map((p: any) => p.identity)).toEqual(["p00", "p01"]);

    for (const bad of ["limit=0", "limit=101", "limit=x", "cursor=%%%"]) {
      expectEnvelope(await call("GET", `/v1/rooms/hall/participants?${bad}`, key), 400, "validation_failed");
    }
  });

  it("pages names that start with U+FEFF like any other: each once, and the list ends", async () => {
    const t = await createTenant();
    const key = { token: t.key.secret };
    const names = ["\ufeffa", "\ufeffb", "\ufeffc"];
    for (const name of names) expect((await call("POST", "/v1/rooms", { ...key, body: { name } })).status).toBe(201);
    for (const identity of names) await join(livekit, t.project.id, names[0]!, { identity });
    for (const path of ["/v1/rooms", `/v1/rooms/${encodeURIComponent(names[0]!)}/participants`]) {
      const seen: string[] = [];
      let cursor: string | null = null;
      for (let pages = 0; pages < 5; pages++) {
        const res: { status: number; text: string; body: any } = await call("GET", `${path}?limit=1${cursor ? `&cursor=${cursor}` : ""}`, key);
        expect(res.status, res.text).toBe(200);
        seen.push(...res.body.data.map((r: any) => ("identity" in r ? r.identity : r.name)));
        cursor = res.body.next_cursor;
        if (!cursor) break;
      }
      expect(seen, path).toEqual(names);
      expect(cursor).toBeNull();
    }
  });

  it("pages through the longest identities, whatever their script: a cursor it hands out is one it takes", async () => {
    const t = await createTenant();
    const key = { token: t.key.secret };
    expect((await call("POST", "/v1/rooms", { ...key, body: { name: "wide" } })).status).toBe(201);
    // 256 UTF-16 units each: three bytes a unit in UTF-8 for kana, two units of four bytes for emoji.
    const identities = ["あ".repeat(255) + "a", "あ".repeat(255) + "b", "😀".repeat(128)];
    for (const identity of identities) await join(livekit, t.project.id, "wide", { identity });
    const seen: string[] = [];
    let cursor: string | null = null;
    for (let pages = 0; pages < 5; pages++) {
      const res: { status: number; text: string; body: any } = await call("GET", `/v1/rooms/wide/participants?limit=1${cursor ? `&cursor=${cursor}` : ""}`, key);
      expect(res.status, res.text).toBe(200);
      seen.push(...res.body.data.map((p: any) => p.identity));
      cursor = res.body.next_cursor;
      if (!cursor) break;
    }
    expect(seen).toEqual(identities);
  });

  it("forgets a full page of rooms LiveKit ended while their room_finished was lost, in one statement D1 accepts", async () => {
    const t = await createTenant();
    // 100 names LiveKit no longer has, last seen an hour ago (a recursive CTE: no bound list).
    await env.DB.prepare(
      "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 100) INSERT INTO known_rooms (project_id, name, last_seen_at) SELECT ?, printf('gone-%03d', i), ? FROM n",
    )
      .bind(t.project.id, Date.now() - 3_600_000)
      .run();
    expect((await call("POST", "/v1/rooms", { token: t.key.secret, body: { name: "live-room" } })).status).toBe(201);

    const page = await call("GET", "/v1/rooms?limit=100", { token: t.key.secret });
    expect(page.status, page.text).toBe(200);
    expect(page.body.data).toEqual([]);
    const rest = await call("GET", `/v1/rooms?limit=100&cursor=${page.body.next_cursor}`, { token: t.key.secret });
    expect(rest.body.data.map((r: any) => r.name)).toEqual(["live-room"]);
    const left = await env.DB.prepare("SELECT name FROM known_rooms WHERE project_id = ?").bind(t.project.id).all<{ name: string }>();
    expect(left.results.map((r) => r.name)).toEqual(["live-room"]);
  });

  it("drives a room end to end: participants, permission merge, mute, metadata, data, removal and deletion, each audited", async () => {
    const t = await createTenant();
    const key = { token: t.key.secret };
    expect((await call("POST", "/v1/rooms", { ...key, body: { name: "studio" } })).status).toBe(201);
    const alice = await join(livekit, t.project.id, "studio", { identity: "alice", name: "Alice", tracks: [camera, mic] });
    await join(livekit, t.project.id, "studio", { identity: "bob" });

    const listed = await call("GET", "/v1/rooms/studio/participants", key);
    expect(listed.status, listed.text).toBe(200);
    expect(listed.body.data.map((p: any) => p.identity).sort()).toEqual(["alice", "bob"]);
    const a = listed.body.data.find((p: any) => p.identity === "alice");
    expect(a).toMatchObject({ sid: alice.sid, name: "Alice", state: "active", is_publisher: true, attributes: {} });
    expect(a.permission).toEqual({ can_publish: true, can_subscribe: true, can_publish_data: true, can_publish_sources: [], hidden: false });
    expect(a.tracks.map((tr: any) => [tr.type, tr.source])).toEqual([["video", "camera"], ["audio", "microphone"]]);
    expect((await call("GET", "/v1/rooms/studio", key)).body.num_participants).toBe(2);

    // Permission: only can_publish changes; what was there stays (LiveKit replaces the object).
    const patched = await call("PATCH", "/v1/rooms/studio/participants/bob", { ...key, body: { permission: { can_publish: false }, attributes: { team: "red" }, name: "Bobby" } });
    expect(patched.status, patched.text).toBe(200);
    expect(patched.body).toMatchObject({ name: "Bobby", attributes: { team: "red" } });
    expect(patched.body.permission).toEqual({ can_publish: false, can_subscribe: true, can_publish_data: true, can_publish_sources: [], hidden: false });
    const update = livekit.callsTo("UpdateParticipant")[0]!;
    expect(update.claims!.video).toEqual({ roomAdmin: true, room: wire(t.project.id, "studio") });
    expect(update.body.permission).toMatchObject({ canPublish: false, canSubscribe: true, canPublishData: true, recorder: false, agent: false });

    const track = alice.tracks[0]!;
    const muted = await call("POST", "/v1/rooms/studio/participants/alice/mute", { ...key, body: { track_sid: track.sid, muted: true } });
    expect(muted.status, muted.text).toBe(200);
    expect(muted.body).toMatchObject({ sid: track.sid, muted: true, type: "video", source: "camera", width: 1280 });
    expectEnvelope(await call("POST", "/v1/rooms/studio/participants/alice/mute", { ...key, body: { track_sid: "TR_nope", muted: true } }), 404, "not_found");

    const meta = await call("PATCH", "/v1/rooms/studio", { ...key, body: { metadata: "état: «live» 🎬" } });
    expect(meta.status, meta.text).toBe(200);
    expect(meta.body.metadata).toBe("état: «live» 🎬");

    const payload = btoa("hello, room");
    const sent = await call("POST", "/v1/rooms/studio/data", { ...key, body: { data: payload, topic: "chat", destination_identities: ["alice"], reliable: false } });
    expect(sent.status, sent.text).toBe(202);
    expect(livekit.rooms.get(wire(t.project.id, "studio"))!.data).toEqual([
      { room: wire(t.project.id, "studio"), data: payload, kind: "LOSSY", topic: "chat", destinationIdentities: ["alice"] },
    ]);

    expect((await call("DELETE", "/v1/rooms/studio/participants/bob", key)).status).toBe(204);
    expectEnvelope(await call("GET", "/v1/rooms/studio/participants/bob", key), 404, "not_found");
    expect((await call("DELETE", "/v1/rooms/studio", key)).status).toBe(204);
    expectEnvelope(await call("GET", "/v1/rooms/studio", key), 404, "not_found");
    expectEnvelope(await call("DELETE", "/v1/rooms/studio", key), 404, "not_found");
    expect((await call("GET", "/v1/rooms", key)).body.data).toEqual([]);

    expect((await auditActions(t.project.id)).map((e) => e.action)).toEqual([
      "room.created",
      "participant.updated",
      "participant.muted",
      "room.metadata_updated",
      "room.data_sent",
      "participant.removed",
      "room.deleted",
    ]);
    const audit = await auditActions(t.project.id);
    expect(audit[1]).toMatchObject({ room: "studio", identity: "bob", fields: ["attributes", "name", "permission"] });
    expect(audit[2]).toMatchObject({ identity: "alice", track_sid: track.sid, muted: true });
    expect(audit[4]).toMatchObject({ bytes: 11, topic: "chat", destination_identities: 1 });
  });

  it("refuses recorder/agent permissions, lk.* attributes, oversized data and unknown fields with 400, calling nothing", async () => {
    const t = await createTenant();
    const key = { token: t.key.secret };
    await call("POST", "/v1/rooms", { ...key, body: { name: "r" } });
    await join(livekit, t.project.id, "r", { identity: "alice" });
    const before = livekit.calls.length;
    const bad: [string, string, unknown][] = [
      ["PATCH", "/v1/rooms/r/participants/alice", { permission: { recorder: true } }],
      ["PATCH", "/v1/rooms/r/participants/alice", { permission: { agent: true } }],
      ["PATCH", "/v1/rooms/r/participants/alice", { attributes: { "lk.agent.state": "x" } }],
      ["PATCH", "/v1/rooms/r/participants/alice", {}],
      ["PATCH", "/v1/rooms/r/participants/alice", { permission: { can_publish_sources: ["webcam"] } }],
      ["POST", "/v1/rooms/r/data", { data: btoa("x".repeat(15 * 1024 + 1)) }],
      ["POST", "/v1/rooms/r/data", { data: "not base64!" }],
      ["POST", "/v1/rooms", { name: "x", colour: "red" }],
      ["POST", "/v1/rooms", { name: "" }],
      ["POST", "/v1/rooms", { name: "x".repeat(129) }],
      ["PATCH", "/v1/rooms/r", { metadata: "m", name: "n" }],
    ];
    for (const [method, path, body] of bad) {
      const res = await call(method, path, { ...key, body });
      if (res.status !== 400) throw new Error(`${method} ${path} ${JSON.stringify(body)}: ${res.status} ${res.text}`);
      expectEnvelope(res, 400, "validation_failed");
    }
    expect(livekit.calls.length).toBe(before);
    expect(expectEnvelope(await call("PATCH", "/v1/rooms/r/participants/alice", { ...key, body: { permission: { recorder: true } } }), 400, "validation_failed").details![0]!.path).toBe("permission.recorder");
    // Exactly 15 KiB is fine.
    expect((await call("POST", "/v1/rooms/r/data", { ...key, body: { data: btoa("x".repeat(15 * 1024)) } })).status).toBe(202);
  });
});

describe("rooms scopes", () => {
  it("gives new keys rooms:read and rooms:write; rooms:write implies read; other keys get 403", async () => {
    const t = await createTenant();
    expect(t.key.scopes).toEqual(expect.arrayContaining(["rooms:read", "rooms:write"]));
    const reader = await createApiKey(t.user, t.project.id, { scopes: ["rooms:read"] });
    const writer = await createApiKey(t.user, t.project.id, { scopes: ["rooms:write"] });
    const tokensOnly = await createApiKey(t.user, t.project.id, { scopes: ["tokens:write"] });

    expect((await call("POST", "/v1/rooms", { token: writer.secret, body: { name: "w" } })).status).toBe(201);
    expect((await call("GET", "/v1/rooms/w", { token: writer.secret })).status).toBe(200);
    expect((await call("GET", "/v1/rooms/w", { token: reader.secret })).status).toBe(200);
    expect((await call("GET", "/v1/rooms", { token: reader.secret })).status).toBe(200);
    expect(expectEnvelope(await call("POST", "/v1/rooms", { token: reader.secret, body: { name: "r" } }), 403, "forbidden").message).toContain("rooms:write");
    expectEnvelope(await call("DELETE", "/v1/rooms/w", { token: reader.secret }), 403, "forbidden");
    expectEnvelope(await call("GET", "/v1/rooms", { token: tokensOnly.secret }), 403, "forbidden");
    expectEnvelope(await call("GET", "/v1/rooms"), 401, "unauthenticated");
  });

  it("leaves keys created before the rooms scopes existed without them", async () => {
    const t = await createTenant();
    // A key as round 1 stored it: every scope of that time, and nothing else.
    const legacy = await createApiKey(t.user, t.project.id, { scopes: ["tokens:write", "egress:write", "ingress:write", "webhooks:write", "usage:read"] });
    expectEnvelope(await call("GET", "/v1/rooms", { token: legacy.secret }), 403, "forbidden");
    expect((await call("POST", "/v1/tokens", { token: legacy.secret, body: { identity: "a", room: "r" } })).status).toBe(201);
  });
});

describe("rooms for signed-in members", () => {
  it("serves the same rooms under /v1/projects/{id}/rooms, audited as the user", async () => {
    const t = await createTenant();
    const created = await call("POST", `/v1/projects/${t.project.id}/rooms`, { token: t.user.token, body: { name: "board" } });
    expect(created.status, created.text).toBe(201);
    expect((await call("GET", "/v1/rooms/board", { token: t.key.secret })).body.sid).toBe(created.body.sid);
    const listed = await call("GET", `/v1/projects/${t.project.id}/rooms`, { token: t.user.token });
    expect(listed.body.data.map((r: any) => r.name)).toEqual(["board"]);
    const row = await env.DB.prepare("SELECT actor_type, actor_id FROM audit_logs WHERE project_id = ? AND action = 'room.created'").bind(t.project.id).first();
    expect(row).toEqual({ actor_type: "user", actor_id: t.user.id });
  });
});

describe("room quota", () => {
  it("refuses creating rooms with 402 on a hard-capped plan over quota, without calling LiveKit; other room calls still work", async () => {
    // A new org is on the free plan (hard cap): its month's participant minutes, used up.
    const t = await createTenant();
    const free = { key: t.key, projectId: t.project.id };
    const occurredAt = Math.max(currentMonth().since, Date.now() - 60_000);
    await usageEventInsert(createDb(env.DB), { projectId: t.project.id, orgId: t.org.id, meter: "participant_minutes", quantity: 5_000, occurredAt, sourceId: `rooms-quota-${t.project.id}` });
    const before = livekit.calls.length;
    // The quota snapshot is cached per isolate: this is the org's first request.
    expectEnvelope(await call("POST", "/v1/rooms", { token: free.key.secret, body: { name: "after" } }), 402, "quota_exceeded");
    expectEnvelope(await call("POST", `/v1/projects/${free.projectId}/rooms`, { token: t.user.token, body: { name: "after" } }), 402, "quota_exceeded");
    expect(livekit.calls.length).toBe(before);
    expect((await call("GET", "/v1/rooms", { token: free.key.secret })).status).toBe(200);
  });
});
