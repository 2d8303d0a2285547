import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { call, expectEnvelope } from "../support/api";
import { createTenant } from "../support/factories";
import { UPSTREAM_FAILURES, useFakeLivekit } from "../support/fake-livekit";
import { join } from "../support/rooms";

const livekit = useFakeLivekit({ twirpTimeoutMs: 300 });

const calls = [
  ["POST", "/v1/rooms", { name: "fresh" }],
  ["GET", "/v1/rooms", undefined],
  ["GET", "/v1/rooms/live", undefined],
  ["PATCH", "/v1/rooms/live", { metadata: "m" }],
  ["DELETE", "/v1/rooms/live", undefined],
  ["POST", "/v1/rooms/live/data", { data: btoa("x") }],
  ["GET", "/v1/rooms/live/participants", undefined],
  ["GET", "/v1/rooms/live/participants/alice", undefined],
  ["PATCH", "/v1/rooms/live/participants/alice", { permission: { hidden: true } }],
  ["DELETE", "/v1/rooms/live/participants/alice", undefined],
  ["POST", "/v1/rooms/live/participants/alice/mute", { track_sid: "TR_x", muted: true }],
] as const;

describe("LiveKit failing on RoomService calls", () => {
  it.each(UPSTREAM_FAILURES)("answers every room route with 502 upstream_error on %s, recording nothing", async (_name, failure) => {
    const t = await createTenant();
    expect((await call("POST", "/v1/rooms", { token: t.key.secret, body: { name: "live" } })).status).toBe(201);
    await join(livekit, t.project.id, "live", { identity: "alice" });
    const audited = async () =>
      (await env.DB.prepare("SELECT COUNT(*) AS n FROM audit_logs WHERE project_id = ? AND resource_type = 'room'").bind(t.project.id).first<{ n: number }>())!.n;
    const before = await audited();
    for (const [method, path, body] of calls) {
      livekit.failNext(failure);
      const started = Date.now();
      const res = await call(method, path, { token: t.key.secret, body });
      if (res.status !== 502) throw new Error(`${method} ${path}: expected 502, got ${res.status} ${res.text}`);
      const error = expectEnvelope(res, 502, "upstream_error");
      expect(error.message).not.toMatch(/stack|at \w+ \(/);
      expect(Date.now() - started).toBeLessThan(5_000);
    }
    expect(await audited()).toBe(before);
    expect(livekit.rooms.size).toBe(1);
  });
});
