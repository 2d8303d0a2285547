import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { call, expectEnvelope } from "../support/api";
import { createApiKey, createTenant } from "../support/factories";
import { useFakeLivekit } from "../support/fake-livekit";

const livekit = useFakeLivekit();

describe("POST /v1/ingress", () => {
  it("creates an RTMP ingress in LiveKit in the namespaced room and returns the stream key", async () => {
    const t = await createTenant();
    const res = await call("POST", "/v1/ingress", {
      token: t.key.secret,
      body: { input_type: "rtmp", room: "stage", participant_identity: "obs", participant_name: "OBS «main»", participant_metadata: '{"role":"host"}', name: "Main cam 🎥", enable_transcoding: true },
    });
    expect(res.status).toBe(201);
    const [sent] = livekit.callsTo("CreateIngress");
    expect(sent!.claims!.video).toEqual({ ingressAdmin: true });
    expect(sent!.body).toEqual({
      inputType: "RTMP_INPUT",
      name: "Main cam 🎥",
      roomName: `${t.project.id}:stage`,
      participantIdentity: "obs",
      participantName: "OBS «main»",
      participantMetadata: '{"role":"host"}',
      enableTranscoding: true,
    });
    const info = livekit.ingresses.get(res.body.ingress_id)!;
    expect(res.body).toEqual({
      id: expect.stringMatching(/^ing_[0-9A-Za-z]+$/),
      ingress_id: expect.stringMatching(/^IN_/),
      input_type: "rtmp",
      name: "Main cam 🎥",
      room: "stage",
      participant_identity: "obs",
      url: "rtmp://livekit.test/x",
      stream_key: info.stream_key,
      status: "ENDPOINT_INACTIVE",
      error: null,
      started_at: null,
      ended_at: null,
      created_at: expect.any(String),
    });
    // The tenant gets the key back on reads, but D1 only holds it sealed.
    const got = await call("GET", `/v1/ingress/${res.body.id}`, { token: t.key.secret });
    expect(got.body).toEqual(res.body);
    const row = await env.DB.prepare("SELECT * FROM ingresses WHERE id = ?").bind(res.body.id).first<Record<string, unknown>>();
    expect(JSON.stringify(row)).not.toContain(info.stream_key);
    expect(row!.stream_key_encrypted).toMatch(/^v2\.k0\./);
    const audit = await call("GET", `/v1/orgs/${t.org.id}/audit-logs?action=ingress.created`, { token: t.user.token });
    expect(audit.body.data).toHaveLength(1);
    expect(audit.body.data[0]).toMatchObject({ resource_id: res.body.id, actor_type: "api_key", actor_id: t.key.id });
    expect(JSON.stringify(audit.body.data[0])).not.toContain(info.stream_key);
  });

  it("creates WHIP and URL ingresses with LiveKit's input types", async () => {
    const t = await createTenant();
    const whip = await call("POST", "/v1/ingress", { token: t.key.secret, body: { input_type: "whip", room: "r", participant_identity: "browser" } });
    expect(whip.status).toBe(201);
    expect(whip.body).toMatchObject({ input_type: "whip", url: "http://livekit.test/w", name: "" });
    expect(whip.body.stream_key).toBeTruthy();
    const url = await call("POST", "/v1/ingress", { token: t.key.secret, body: { input_type: "url", room: "r", participant_identity: "feed", url: "https://cdn.example.com/live.m3u8" } });
    expect(url.status).toBe(201);
    expect(url.body).toMatchObject({ input_type: "url", url: "https://cdn.example.com/live.m3u8", stream_key: null });
    expect(livekit.callsTo("CreateIngress").map((c) => c.body.inputType)).toEqual(["WHIP_INPUT", "URL_INPUT"]);
    expect(livekit.callsTo("CreateIngress")[1]!.body.url).toBe("https://cdn.example.com/live.m3u8");
  });

  it.each([
    ["an unknown input type", { input_type: "srt", room: "r", participant_identity: "p" }],
    ["a missing room", { input_type: "rtmp", participant_identity: "p" }],
    ["a missing identity", { input_type: "rtmp", room: "r" }],
    ["a url ingress without url", { input_type: "url", room: "r", participant_identity: "p" }],
    ["a url on an rtmp ingress", { input_type: "rtmp", room: "r", participant_identity: "p", url: "https://x.example.com/a" }],
    ["a file: url", { input_type: "url", room: "r", participant_identity: "p", url: "file:///etc/passwd" }],
    ["an unknown field", { input_type: "rtmp", room: "r", participant_identity: "p", reusable: true }],
  ])("refuses %s with 400 and never calls LiveKit", async (_name, body) => {
    const t = await createTenant();
    expectEnvelope(await call("POST", "/v1/ingress", { token: t.key.secret, body }), 400, "validation_failed");
    expect(livekit.calls).toHaveLength(0);
  });

  it("requires the ingress:write scope on every ingress route", async () => {
    const t = await createTenant();
    const created = await call("POST", "/v1/ingress", { token: t.key.secret, body: { input_type: "rtmp", room: "r", participant_identity: "p" } });
    const narrow = await createApiKey(t.user, t.project.id, { scopes: ["egress:write"] });
    for (const [method, path] of [
      ["POST", "/v1/ingress"],
      ["GET", "/v1/ingress"],
      ["GET", `/v1/ingress/${created.body.id}`],
      ["PATCH", `/v1/ingress/${created.body.id}`],
      ["DELETE", `/v1/ingress/${created.body.id}`],
    ] as const) {
      const body = method === "POST" ? { input_type: "rtmp", room: "r", participant_identity: "p" } : method === "PATCH" ? { name: "n" } : undefined;
      expectEnvelope(await call(method, path, { token: narrow.secret, body }), 403, "forbidden");
    }
    expect(livekit.calls).toHaveLength(1);
  });
});

describe("PATCH /v1/ingress/{ing_id}", () => {
  it("changes only the fields given, in LiveKit (the room namespaced) and in the record, and audits which", async () => {
    const t = await createTenant();
    const created = await call("POST", "/v1/ingress", { token: t.key.secret, body: { input_type: "rtmp", room: "stage", participant_identity: "obs", name: "Main" } });
    const res = await call("PATCH", `/v1/ingress/${created.body.id}`, {
      token: t.key.secret,
      body: { name: "Backup «cam» 🎥", room: "green room", participant_name: "OBS 2", enabled: false },
    });
    expect(res.status, res.text).toBe(200);
    const [sent] = livekit.callsTo("UpdateIngress");
    expect(sent!.claims!.video).toEqual({ ingressAdmin: true });
    expect(sent!.body).toEqual({
      ingressId: created.body.ingress_id,
      name: "Backup «cam» 🎥",
      roomName: `${t.project.id}:green room`,
      participantName: "OBS 2",
      enabled: false,
    });
    expect(res.body).toMatchObject({ id: created.body.id, name: "Backup «cam» 🎥", room: "green room", participant_identity: "obs", stream_key: created.body.stream_key });
    expect((await call("GET", `/v1/ingress/${created.body.id}`, { token: t.key.secret })).body).toEqual(res.body);
    expect(livekit.ingresses.get(created.body.ingress_id)).toMatchObject({ name: "Backup «cam» 🎥", room_name: `${t.project.id}:green room` });
    const audit = await call("GET", `/v1/orgs/${t.org.id}/audit-logs?action=ingress.updated`, { token: t.user.token });
    expect(audit.body.data.map((e: any) => [e.resource_id, e.metadata.changed])).toEqual([[created.body.id, ["name", "room", "participant_name", "enabled"]]]);
  });

  it.each([
    ["an emptied name", { name: "" }],
    ["an emptied participant name", { participant_name: "" }],
    ["emptied participant metadata", { participant_metadata: "" }],
    ["an empty room", { room: "" }],
    ["an unknown field", { enable_transcoding: true }],
    ["a wrong type", { enabled: "no" }],
  ])("refuses %s with 400 before LiveKit hears of it, and changes nothing", async (_what, body) => {
    const t = await createTenant();
    const created = await call("POST", "/v1/ingress", { token: t.key.secret, body: { input_type: "rtmp", room: "stage", participant_identity: "obs", name: "Main" } });
    const res = await call("PATCH", `/v1/ingress/${created.body.id}`, { token: t.key.secret, body });
    expectEnvelope(res, 400, "validation_failed");
    expect(livekit.callsTo("UpdateIngress")).toHaveLength(0);
    expect((await call("GET", `/v1/ingress/${created.body.id}`, { token: t.key.secret })).body).toEqual(created.body);
  });
});

describe("listing and deleting ingresses", () => {
  it("lists newest first with a room filter, and DELETE removes it in LiveKit and from the list", async () => {
    const t = await createTenant();
    const ids: string[] = [];
    for (const room of ["a", "b", "a"]) {
      const res = await call("POST", "/v1/ingress", { token: t.key.secret, body: { input_type: "rtmp", room, participant_identity: "p" } });
      ids.push(res.body.id);
    }
    const all = await call("GET", "/v1/ingress", { token: t.key.secret });
    expect(all.body.data.map((i: any) => i.id)).toEqual([ids[2], ids[1], ids[0]]);
    expect(all.body.data.every((i: any) => typeof i.stream_key === "string" && i.stream_key.length > 0)).toBe(true);
    const roomA = await call("GET", "/v1/ingress?room=a&limit=1", { token: t.key.secret });
    expect(roomA.body.data.map((i: any) => i.id)).toEqual([ids[2]]);
    const next = await call("GET", `/v1/ingress?room=a&limit=1&cursor=${roomA.body.next_cursor}`, { token: t.key.secret });
    expect(next.body.data.map((i: any) => i.id)).toEqual([ids[0]]);

    const victim = all.body.data[1];
    const del = await call("DELETE", `/v1/ingress/${victim.id}`, { token: t.key.secret });
    expect(del.status).toBe(204);
    const [sent] = livekit.callsTo("DeleteIngress");
    expect(sent!.body).toEqual({ ingressId: victim.ingress_id });
    expect(sent!.claims!.video).toEqual({ ingressAdmin: true });
    expect(livekit.ingresses.has(victim.ingress_id)).toBe(false);
    expectEnvelope(await call("GET", `/v1/ingress/${victim.id}`, { token: t.key.secret }), 404, "not_found");
    expectEnvelope(await call("DELETE", `/v1/ingress/${victim.id}`, { token: t.key.secret }), 404, "not_found");
    expect((await call("GET", "/v1/ingress", { token: t.key.secret })).body.data.map((i: any) => i.id)).toEqual([ids[2], ids[0]]);
    const audit = await call("GET", `/v1/orgs/${t.org.id}/audit-logs?action=ingress.deleted`, { token: t.user.token });
    expect(audit.body.data.map((e: any) => e.resource_id)).toEqual([victim.id]);
  });

  it("finishes a delete when LiveKit no longer knows the ingress", async () => {
    const t = await createTenant();
    const created = await call("POST", "/v1/ingress", { token: t.key.secret, body: { input_type: "rtmp", room: "r", participant_identity: "p" } });
    livekit.ingresses.delete(created.body.ingress_id);
    expect((await call("DELETE", `/v1/ingress/${created.body.id}`, { token: t.key.secret })).status).toBe(204);
    expectEnvelope(await call("GET", `/v1/ingress/${created.body.id}`, { token: t.key.secret }), 404, "not_found");
  });
});
