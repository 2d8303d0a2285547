/**
 * `livekit.RoomService` through Pulse, driven by livekit-server-sdk's own `RoomServiceClient` with a
 * project's LiveKit key, against the fake LiveKit's RoomService (which checks every grant and that
 * every room it hears is namespaced).
 */
import { env } from "cloudflare:workers";
import { ListParticipantsRequest, ListParticipantsResponse, ParticipantInfo, RoomCompositeEgressRequest, RoomEgress, UpdateParticipantRequest } from "@livekit/protocol";
import { AccessToken, DataPacket_Kind, RoomServiceClient, TrackSource } from "livekit-server-sdk";
import { describe, expect, it } from "vitest";
import { call } from "../support/api";
import { addUsage } from "../support/billing";
import { createTenant } from "../support/factories";
import { useFakeLivekit, type RecordedCall } from "../support/fake-livekit";
import { createLivekitKey } from "../support/livekit-keys";
import { PULSE_HOST, twirp, twirpFailure, usePulseHost } from "../support/livekit-sdk";
import { wire } from "../support/rooms";
import { auditActions } from "../support/team";

const fake = useFakeLivekit();
usePulseHost();

async function tenantWithRoomClient() {
  const tenant = await createTenant();
  const lk = await createLivekitKey(tenant.user, tenant.project.id);
  return { ...tenant, lk, rooms: new RoomServiceClient(PULSE_HOST, lk.api_key, lk.api_secret) };
}

/** Every room name a RoomService call to LiveKit named. */
function namedRooms(c: RecordedCall): string[] {
  if (c.method === "CreateRoom") return [String(c.body.name)];
  if (c.method === "ListRooms") return (c.body.names as string[]) ?? [];
  return [String(c.body.room)];
}

/** Every upstream call was signed with the deployment's key and named only `projectId`'s rooms. */
function expectOnlyNamespace(projectId: string, calls: RecordedCall[] = fake.calls) {
  expect(calls.length).toBeGreaterThan(0);
  for (const c of calls) expect(c.claims?.iss).toBe(env.LIVEKIT_API_KEY);
  expect(calls.flatMap(namedRooms).filter((n) => !n.startsWith(`${projectId}:`))).toEqual([]);
}

const mic = { type: "AUDIO" as const, source: "MICROPHONE" as const, name: "mic", muted: false };

describe("livekit.RoomService through Pulse with livekit-server-sdk's RoomServiceClient", () => {
  it("creates, lists, updates and deletes rooms in the tenant's namespace, audited like the REST routes", async () => {
    const { rooms, project, org, key } = await tenantWithRoomClient();
    const created = await rooms.createRoom({ name: "standup", emptyTimeout: 120, maxParticipants: 8, metadata: "daily" });
    expect([created.name, created.emptyTimeout, created.maxParticipants, created.metadata]).toEqual(["standup", 120, 8, "daily"]);
    expect(created.sid).toMatch(/^RM_/);
    expect(fake.callsTo("CreateRoom")[0]!.body).toEqual({ name: `${project.id}:standup`, emptyTimeout: 120, maxParticipants: 8, metadata: "daily" });

    // LiveKit's CreateRoom answers a live room with that room: so does Pulse, and records nothing new.
    const again = await rooms.createRoom({ name: "standup" });
    expect([again.sid, again.metadata]).toEqual([created.sid, "daily"]);
    await rooms.createRoom({ name: "retro" });

    expect((await rooms.listRooms()).map((r) => r.name)).toEqual(["retro", "standup"]);
    expect((await rooms.listRooms(["standup", "nope"])).map((r) => [r.name, r.sid])).toEqual([["standup", created.sid]]);
    // The REST API sees the same rooms.
    expect((await call("GET", "/v1/rooms", { token: key.secret })).body.data.map((r: { name: string }) => r.name)).toEqual(["retro", "standup"]);

    const updated = await rooms.updateRoomMetadata("standup", "moved to 10:00");
    expect([updated.name, updated.metadata]).toEqual(["standup", "moved to 10:00"]);
    await rooms.deleteRoom("retro");
    expect(fake.rooms.has(wire(project.id, "retro"))).toBe(false);
    expect((await rooms.listRooms()).map((r) => r.name)).toEqual(["standup"]);
    expectOnlyNamespace(project.id);

    expect((await auditActions(org.id, "standup")).map((a) => a.action)).toEqual(["room.created", "room.metadata_updated"]);
    expect((await auditActions(org.id, "retro")).map((a) => a.action)).toEqual(["room.created", "room.deleted"]);
  });

  it("lists, reads, mutes, updates and removes participants and sends data, with roomAdmin for that room", async () => {
    const { rooms, project, org } = await tenantWithRoomClient();
    await rooms.createRoom({ name: "class" });
    const alice = fake.join(wire(project.id, "class"), { identity: "alice", name: "Alice", tracks: [mic] });
    fake.join(wire(project.id, "class"), { identity: "bob" });

    expect((await rooms.listParticipants("class")).map((p) => p.identity).sort()).toEqual(["alice", "bob"]);
    const read = await rooms.getParticipant("class", "alice");
    expect([read.sid, read.name, read.tracks.map((t) => t.sid)]).toEqual([alice.sid, "Alice", [alice.tracks[0]!.sid]]);

    const track = await rooms.mutePublishedTrack("class", "alice", alice.tracks[0]!.sid, true);
    expect([track.sid, track.muted, track.source]).toEqual([alice.tracks[0]!.sid, true, TrackSource.MICROPHONE]);

    const changed = await rooms.updateParticipant("class", "alice", {
      metadata: "hand raised",
      attributes: { seat: "3" },
      permission: { canSubscribe: true, canPublish: false, canPublishData: true, canPublishSources: [TrackSource.MICROPHONE] },
    });
    expect([changed.metadata, changed.attributes, changed.permission?.canPublish, changed.permission?.canPublishSources]).toEqual([
      "hand raised",
      { seat: "3" },
      false,
      [TrackSource.MICROPHONE],
    ]);
    expect(fake.callsTo("UpdateParticipant").at(-1)!.body.permission).toMatchObject({ canSubscribe: true, canPublishData: true, canPublishSources: ["MICROPHONE"] });

    await rooms.sendData("class", new TextEncoder().encode("quiz starts"), DataPacket_Kind.LOSSY, { topic: "quiz", destinationIdentities: ["bob"] });
    const sent = fake.rooms.get(wire(project.id, "class"))!.data;
    expect(sent).toEqual([{ room: `${project.id}:class`, data: btoa("quiz starts"), kind: "LOSSY", topic: "quiz", destinationIdentities: ["bob"] }]);

    await rooms.removeParticipant("class", "bob");
    expect([...fake.rooms.get(wire(project.id, "class"))!.participants.keys()]).toEqual(["alice"]);
    expectOnlyNamespace(project.id);

    expect((await auditActions(org.id, "class")).map((a) => a.action)).toEqual([
      "room.created",
      "participant.muted",
      "participant.updated",
      "room.data_sent",
      "participant.removed",
    ]);
  });

  it("answers not_found for another project's room on every method, and LiveKit never hears that project's namespace", async () => {
    const a = await tenantWithRoomClient();
    const b = await tenantWithRoomClient();
    await a.rooms.createRoom({ name: "secret", metadata: "A's" });
    const alice = fake.join(wire(a.project.id, "secret"), { identity: "alice", tracks: [mic] });
    const mark = fake.calls.length;

    for (const room of ["secret", `${a.project.id}:secret`]) {
      for (const attempt of [
        () => b.rooms.deleteRoom(room),
        () => b.rooms.updateRoomMetadata(room, "mine now"),
        () => b.rooms.listParticipants(room),
        () => b.rooms.getParticipant(room, "alice"),
        () => b.rooms.removeParticipant(room, "alice"),
        () => b.rooms.mutePublishedTrack(room, "alice", alice.tracks[0]!.sid, true),
        () => b.rooms.updateParticipant(room, "alice", { metadata: "x" }),
        () => b.rooms.sendData(room, new Uint8Array([1]), DataPacket_Kind.RELIABLE),
      ]) {
        const error = await twirpFailure(attempt());
        expect([error.status, error.code]).toEqual([404, "not_found"]);
      }
      expect(await b.rooms.listRooms([room])).toEqual([]);
    }
    expect(await b.rooms.listRooms()).toEqual([]);
    expectOnlyNamespace(b.project.id, fake.calls.slice(mark));
    const room = fake.rooms.get(wire(a.project.id, "secret"))!;
    expect([room.metadata, [...room.participants.keys()]]).toEqual(["A's", ["alice"]]);
  });

  it("refuses a token whose grant is missing or names another room than the request", async () => {
    const { lk, project } = await tenantWithRoomClient();
    const sign = (grant: Record<string, unknown>) => {
      const at = new AccessToken(lk.api_key, lk.api_secret, { ttl: "10m" });
      at.addGrant(grant);
      return at.toJwt();
    };
    const cases: [string, Record<string, unknown>, Record<string, unknown>][] = [
      ["CreateRoom", { roomList: true }, { name: "r" }],
      ["DeleteRoom", { roomAdmin: true, room: "r" }, { room: "r" }],
      ["ListRooms", { roomCreate: true }, {}],
      ["ListParticipants", { roomAdmin: true, room: "mine" }, { room: "other" }],
      ["GetParticipant", { canPublish: true, room: "r" }, { room: "r", identity: "a" }],
      ["SendData", { roomCreate: true, roomList: true }, { room: "r", data: btoa("x") }],
    ];
    for (const [method, grant, body] of cases) {
      const res = await twirp(`livekit.RoomService/${method}`, { token: await sign(grant), contentType: "application/json", body: JSON.stringify(body) });
      expect([method, res.status, ((await res.json()) as { code: string }).code]).toEqual([method, 403, "permission_denied"]);
    }
    // A token of this project naming another project's room in full reaches only this project's namespace.
    const theirs = "proj_someoneelse:standup";
    const res = await twirp("livekit.RoomService/ListParticipants", {
      token: await sign({ roomAdmin: true, room: theirs }),
      contentType: "application/json",
      body: JSON.stringify({ room: theirs }),
    });
    expect(res.status).toBe(404);
    // LiveKit listed no one there, so Pulse asked whether the room is live: in the same namespace.
    expect(fake.calls.map((c) => [c.method, c.body.room ?? c.body.names])).toEqual([
      ["ListParticipants", `${project.id}:${theirs}`],
      ["ListRooms", [`${project.id}:${theirs}`]],
    ]);
  });

  it("refuses what Pulse does not support by name, and what the REST API refuses, as invalid_argument", async () => {
    const { rooms, project } = await tenantWithRoomClient();
    // Auto-egress would record outside Pulse's egress records, quota and audit.
    const autoEgress = await twirpFailure(rooms.createRoom({ name: "r", egress: new RoomEgress({ room: new RoomCompositeEgressRequest({ layout: "grid" }) }) }));
    expect([autoEgress.status, autoEgress.code]).toEqual([400, "invalid_argument"]);
    expect(autoEgress.message).toContain("egress");
    const sync = await twirpFailure(rooms.createRoom({ name: "r", syncStreams: true }));
    expect(sync.message).toContain("syncStreams");
    const tooLong = await twirpFailure(rooms.createRoom({ name: "x".repeat(129) }));
    expect(tooLong.code).toBe("invalid_argument");
    expect(fake.calls).toEqual([]);

    await rooms.createRoom({ name: "r" });
    fake.join(wire(project.id, "r"), { identity: "alice" });
    const recorder = await twirpFailure(rooms.updateParticipant("r", "alice", { permission: { recorder: true } }));
    expect([recorder.code, recorder.message]).toEqual(["invalid_argument", expect.stringContaining("permission.recorder")]);
    const revoke = await twirpFailure(rooms.removeParticipant("r", "alice", { revokeTokenTs: 5n }));
    expect(revoke.message).toContain("revokeTokenTs");
    const empty = await twirpFailure(rooms.sendData("r", new Uint8Array(), DataPacket_Kind.RELIABLE));
    expect(empty.code).toBe("invalid_argument");
    expect(fake.calls.map((c) => c.method)).toEqual(["ListRooms", "CreateRoom"]);
  });

  it("refuses creating a room on a hard-capped plan past its quota with resource_exhausted", async () => {
    const { rooms, org, project } = await tenantWithRoomClient();
    await addUsage({ orgId: org.id, projectId: project.id }, "participant_minutes", 10_000_000, Date.now());
    const error = await twirpFailure(rooms.createRoom({ name: "r" }));
    expect([error.status, error.code]).toEqual([429, "resource_exhausted"]);
    expect(fake.calls).toEqual([]);
  });

  it("answers the same for one call in protobuf and in JSON", async () => {
    const { lk, project } = await tenantWithRoomClient();
    await new RoomServiceClient(PULSE_HOST, lk.api_key, lk.api_secret).createRoom({ name: "both" });
    fake.join(wire(project.id, "both"), { identity: "alice", tracks: [mic] });
    const at = new AccessToken(lk.api_key, lk.api_secret, { ttl: "10m" });
    at.addGrant({ roomAdmin: true, room: "both" });
    const token = await at.toJwt();
    const request = new ListParticipantsRequest({ room: "both" });

    const asJson = await twirp("livekit.RoomService/ListParticipants", { token, contentType: "application/json", body: request.toJsonString() });
    const asProto = await twirp("livekit.RoomService/ListParticipants", { token, contentType: "application/protobuf", body: request.toBinary() });
    expect([asJson.status, asProto.status]).toEqual([200, 200]);
    expect(asProto.headers.get("Content-Type")).toBe("application/protobuf");
    const fromJson = ListParticipantsResponse.fromJson(await asJson.json(), { ignoreUnknownFields: true });
    const fromProto = ListParticipantsResponse.fromBinary(new Uint8Array(await asProto.arrayBuffer()));
    expect(fromProto.participants.map((p) => p.identity)).toEqual(["alice"]);
    expect(fromProto.equals(fromJson)).toBe(true);
  });

  it("refuses, by path and before LiveKit, what the decoder would change: a __proto__ map key, text that is not Unicode", async () => {
    const { lk, project } = await tenantWithRoomClient();
    await new RoomServiceClient(PULSE_HOST, lk.api_key, lk.api_secret).createRoom({ name: "keep" });
    fake.join(wire(project.id, "keep"), { identity: "alice" });
    const at = new AccessToken(lk.api_key, lk.api_secret, { ttl: "10m" });
    at.addGrant({ roomAdmin: true, room: "keep" });
    const token = await at.toJwt();
    fake.calls.length = 0;
    const update = (contentType: string, body: BodyInit) => twirp("livekit.RoomService/UpdateParticipant", { token, contentType, body });

    // JSON: the key plainly or escaped, and a lone surrogate escaped.
    for (const [body, path] of [
      ['{"room":"keep","identity":"alice","attributes":{"seat":"3","__proto__":"x"}}', "attributes.__proto__"],
      ['{"room":"keep","identity":"alice","attributes":{"\\u005f_proto__":"x"}}', "attributes.__proto__"],
      ['{"room":"keep","identity":"alice","metadata":"half \\ud800"}', "metadata"],
    ] as const) {
      const res = await update("application/json", body);
      const answer = (await res.json()) as { code: string; msg: string };
      expect([res.status, answer.code]).toEqual([400, "invalid_argument"]);
      expect(answer.msg).toContain(path);
    }

    // Protobuf: a map entry keyed __proto__ (same length as the key written, then swapped in the bytes),
    // and a string that is not UTF-8, in the request and inside a nested message's map.
    const bytes = (request: UpdateParticipantRequest, from: string, to: number[]) => {
      const out = request.toBinary();
      const needle = new TextEncoder().encode(from);
      const i = out.findIndex((_, k) => needle.every((b, j) => out[k + j] === b));
      expect(i).toBeGreaterThanOrEqual(0);
      out.set(to, i);
      return out;
    };
    const protoKey = [...new TextEncoder().encode("__proto__")];
    const cases: [Uint8Array, string][] = [
      [bytes(new UpdateParticipantRequest({ room: "keep", identity: "alice", attributes: { seat: "3", __protX__: "x" } }), "__protX__", protoKey), "attributes.__proto__"],
      [bytes(new UpdateParticipantRequest({ room: "keep", identity: "alice", metadata: "ok?" }), "ok?", [0x6f, 0x6b, 0xff]), "metadata"],
      [bytes(new UpdateParticipantRequest({ room: "keep", identity: "alice", attributes: { seat: "A3" } }), "A3", [0xc3, 0x28]), "attributes.seat"],
    ];
    for (const [body, path] of cases) {
      const res = await update("application/protobuf", body);
      const answer = (await res.json()) as { code: string; msg: string };
      expect([res.status, answer.code]).toEqual([400, "invalid_argument"]);
      expect(answer.msg).toContain(path);
    }
    expect(fake.callsTo("UpdateParticipant")).toEqual([]);

    // Text that only mentions __proto__, and real non-ASCII, pass through unchanged in both encodings.
    const fine = new UpdateParticipantRequest({ room: "keep", identity: "alice", metadata: "__proto__ \u00e9 \u{1f600}", attributes: { note: "__proto__" } });
    const byJson = await update("application/json", fine.toJsonString());
    const byProto = await update("application/protobuf", fine.toBinary());
    expect([byJson.status, byProto.status]).toEqual([200, 200]);
    const answered = ParticipantInfo.fromBinary(new Uint8Array(await byProto.arrayBuffer()));
    expect([answered.metadata, answered.attributes]).toEqual(["__proto__ \u00e9 \u{1f600}", { note: "__proto__" }]);
    expect(fake.callsTo("UpdateParticipant").map((c) => c.body.metadata)).toEqual(["__proto__ \u00e9 \u{1f600}", "__proto__ \u00e9 \u{1f600}"]);
  });
});
