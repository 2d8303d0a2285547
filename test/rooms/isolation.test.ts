import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { call, expectEnvelope } from "../support/api";
import { createTenant } from "../support/factories";
import { useFakeLivekit, type RecordedCall } from "../support/fake-livekit";
import { join, wire } from "../support/rooms";

const livekit = useFakeLivekit();

/** Every room name a RoomService call named. */
function namedRooms(c: RecordedCall): string[] {
  if (c.method === "CreateRoom") return [String(c.body.name)];
  if (c.method === "ListRooms") return (c.body.names as string[]) ?? [];
  return [String(c.body.room)];
}

const routes = (base: string, room: string) => {
  const r = `${base}/${encodeURIComponent(room)}`;
  return [
    ["GET", r, undefined],
    ["PATCH", r, { metadata: "mine now" }],
    ["DELETE", r, undefined],
    ["POST", `${r}/data`, { data: btoa("hi") }],
    ["GET", `${r}/participants`, undefined],
    ["GET", `${r}/participants/alice`, undefined],
    ["PATCH", `${r}/participants/alice`, { metadata: "x", permission: { can_publish: false } }],
    ["DELETE", `${r}/participants/alice`, undefined],
    ["POST", `${r}/participants/alice/mute`, { track_sid: "TR_x", muted: true }],
  ] as const;
};

describe("tenant isolation of rooms", () => {
  it("gives project B 404 for project A's room on every route, and LiveKit never hears A's namespace from B's requests", async () => {
    const a = await createTenant();
    const b = await createTenant();
    expect((await call("POST", "/v1/rooms", { token: a.key.secret, body: { name: "secret", metadata: "A's" } })).status).toBe(201);
    await join(livekit, a.project.id, "secret", { identity: "alice", tracks: [{ type: "AUDIO", source: "MICROPHONE", name: "m", muted: false }] });
    const mark = livekit.calls.length;

    for (const [method, path, body] of [
      ...routes("/v1/rooms", "secret").map(([m, p, bd]) => [m, p, bd, b.key.secret] as const),
      ...routes(`/v1/projects/${b.project.id}/rooms`, "secret").map(([m, p, bd]) => [m, p, bd, b.user.token] as const),
    ].map(([m, p, bd, token]) => [m, p, { token, body: bd }] as const)) {
      const res = await call(method, path, body);
      if (res.status !== 404) throw new Error(`${method} ${path}: expected 404, got ${res.status} ${res.text}`);
      expectEnvelope(res, 404, "not_found");
    }
    // B's member asking through A's project id: not a member there.
    for (const [method, path, body] of routes(`/v1/projects/${a.project.id}/rooms`, "secret")) {
      expectEnvelope(await call(method, path, { token: b.user.token, body }), 404, "not_found");
    }
    expectEnvelope(await call("GET", `/v1/projects/${a.project.id}/rooms`, { token: b.user.token }), 404, "not_found");
    expect((await call("GET", "/v1/rooms", { token: b.key.secret })).body.data).toEqual([]);

    const named = livekit.calls.slice(mark).flatMap(namedRooms);
    expect(named.length).toBeGreaterThan(0);
    expect(named.filter((n) => !n.startsWith(`${b.project.id}:`))).toEqual([]);
    const room = livekit.rooms.get(wire(a.project.id, "secret"))!;
    expect(room.metadata).toBe("A's");
    expect([...room.participants.keys()]).toEqual(["alice"]);
    expect(room.participants.get("alice")!.tracks[0]!.muted).toBe(false);
  });

  it.each([
    ["the separator", (a: string) => `${a}:secret`],
    ["a leading separator", () => ":secret"],
    ["a fullwidth colon look-alike", (a: string) => `${a}\uFF1Asecret`],
    ["a ratio-sign look-alike", (a: string) => `${a}\u2236secret`],
    ["dot-dot segments", (a: string) => `../${a}:secret`],
    ["a bare ..", () => ".."],
    ["an encoded slash", (a: string) => `x/../../${a}:secret`],
    ["a NUL byte", (a: string) => `secret\u0000${a}`],
  ])("keeps a room name with %s inside the caller's namespace", async (_what, makeName) => {
    const a = await createTenant();
    const b = await createTenant();
    await call("POST", "/v1/rooms", { token: a.key.secret, body: { name: "secret" } });
    const name = makeName(a.project.id);
    const mark = livekit.calls.length;

    const created = await call("POST", "/v1/rooms", { token: b.key.secret, body: { name } });
    expect(created.status, created.text).toBe(201);
    expect(created.body.name).toBe(name);
    expect(livekit.rooms.has(wire(b.project.id, name))).toBe(true);
    for (const [method, path, body] of routes("/v1/rooms", name)) await call(method, path, { token: b.key.secret, body });
    const listed = await call("GET", "/v1/rooms", { token: b.key.secret });
    expect(listed.body.data.map((r: any) => r.name)).not.toContain("secret");

    expect(livekit.calls.slice(mark).flatMap(namedRooms).filter((n) => !n.startsWith(`${b.project.id}:`))).toEqual([]);
    expect(livekit.rooms.has(wire(a.project.id, "secret"))).toBe(true);
    const names = await env.DB.prepare("SELECT name FROM known_rooms WHERE project_id = ?").bind(a.project.id).all<{ name: string }>();
    expect(names.results.map((r) => r.name)).toEqual(["secret"]);
  });

  it("addresses a room whose name holds a slash by its percent-encoded path", async () => {
    const t = await createTenant();
    expect((await call("POST", "/v1/rooms", { token: t.key.secret, body: { name: "team/daily" } })).status).toBe(201);
    const got = await call("GET", `/v1/rooms/${encodeURIComponent("team/daily")}`, { token: t.key.secret });
    expect(got.status, got.text).toBe(200);
    expect(got.body.name).toBe("team/daily");
  });
});
