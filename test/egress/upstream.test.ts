import { env } from "cloudflare:workers";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { setTwirpTimeoutMs } from "../../src/livekit/twirp";
import { call, expectEnvelope } from "../support/api";
import { createTenant } from "../support/factories";
import { installFakeLivekit, type Failure, type FakeLivekit } from "../support/fake-livekit";

let livekit: FakeLivekit;
beforeEach(() => {
  livekit = installFakeLivekit();
  // A hung LiveKit is given up on after this long (10 s in production).
  setTwirpTimeoutMs(300);
});
afterEach(() => {
  setTwirpTimeoutMs(null);
  livekit.uninstall();
  expect(livekit.violations).toEqual([]);
});

async function count(table: string, projectId: string) {
  const row = await env.DB.prepare(`SELECT COUNT(*) AS n FROM ${table} WHERE project_id = ?`).bind(projectId).first<{ n: number }>();
  return row!.n;
}

async function auditCount(projectId: string) {
  const sql = "SELECT COUNT(*) AS n FROM audit_logs WHERE project_id = ? AND (action LIKE 'egress.%' OR action LIKE 'ingress.%')";
  return (await env.DB.prepare(sql).bind(projectId).first<{ n: number }>())!.n;
}

const failures: [string, Failure][] = [
  ["a 503 with an HTML body", { kind: "status", status: 503, body: "<html>upstream connect error</html>" }],
  ["a 500 with an empty body", { kind: "status", status: 500, body: "" }],
  ["a Twirp internal error", { kind: "twirp", status: 500, code: "internal", msg: "egress service crashed" }],
  ["a Twirp unavailable error (no egress workers)", { kind: "twirp", status: 503, code: "unavailable", msg: "no response from servers" }],
  ["a Twirp unauthenticated error (Pulse's credentials)", { kind: "twirp", status: 401, code: "unauthenticated", msg: "invalid token" }],
  ["malformed JSON with a 200", { kind: "malformed" }],
  ["a 200 whose JSON lacks the LiveKit id", { kind: "status", status: 200, body: '{"status":"EGRESS_STARTING"}' }],
  ["a network error", { kind: "network" }],
  ["no answer at all", { kind: "hang" }],
];

describe("LiveKit failing while starting an egress", () => {
  it.each(failures)("answers 502 upstream_error on %s and records nothing", async (_name, failure) => {
    const t = await createTenant();
    livekit.failNext(failure);
    const started = Date.now();
    const res = await call("POST", "/v1/egress", { token: t.key.secret, body: { type: "room_composite", room: "r", file_outputs: [{ filepath: "a.mp4" }] } });
    const error = expectEnvelope(res, 502, "upstream_error");
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(error.message).not.toMatch(/stack|at \w+ \(/);
    expect(livekit.callsTo("StartRoomCompositeEgress")).toHaveLength(1);
    expect(await count("egresses", t.project.id)).toBe(0);
    expect(await auditCount(t.project.id)).toBe(0);
  });

  it("passes LiveKit's invalid_argument through as 400 validation_failed, recording nothing", async () => {
    const t = await createTenant();
    livekit.failNext({ kind: "twirp", status: 400, code: "invalid_argument", msg: "invalid layout" });
    const res = await call("POST", "/v1/egress", { token: t.key.secret, body: { type: "room_composite", room: "r", layout: "nope", file_outputs: [{ filepath: "a.mp4" }] } });
    const error = expectEnvelope(res, 400, "validation_failed");
    expect(error.message).toContain("invalid layout");
    expect(await count("egresses", t.project.id)).toBe(0);
  });

  it("keeps the record unchanged when stopping fails upstream", async () => {
    const t = await createTenant();
    const started = await call("POST", "/v1/egress", { token: t.key.secret, body: { type: "room_composite", room: "r", file_outputs: [{ filepath: "a.mp4" }] } });
    expect(started.status).toBe(201);
    for (const failure of failures.map(([, f]) => f)) {
      livekit.failNext(failure);
      expectEnvelope(await call("POST", `/v1/egress/${started.body.id}/stop`, { token: t.key.secret }), 502, "upstream_error");
    }
    const got = await call("GET", `/v1/egress/${started.body.id}`, { token: t.key.secret });
    expect(got.body.status).toBe("EGRESS_STARTING");
    expect((await call("GET", `/v1/orgs/${t.org.id}/audit-logs?action=egress.stopped`, { token: t.user.token })).body.data).toHaveLength(0);
  });
});

describe("LiveKit failing on ingress calls", () => {
  it.each(failures)("answers 502 upstream_error on %s when creating, and records nothing", async (_name, failure) => {
    const t = await createTenant();
    livekit.failNext(failure);
    const res = await call("POST", "/v1/ingress", { token: t.key.secret, body: { input_type: "rtmp", room: "r", participant_identity: "cam" } });
    expectEnvelope(res, 502, "upstream_error");
    expect(livekit.callsTo("CreateIngress")).toHaveLength(1);
    expect(await count("ingresses", t.project.id)).toBe(0);
    expect(await auditCount(t.project.id)).toBe(0);
  });

  it("keeps the ingress when deleting fails upstream", async () => {
    const t = await createTenant();
    const created = await call("POST", "/v1/ingress", { token: t.key.secret, body: { input_type: "whip", room: "r", participant_identity: "cam" } });
    expect(created.status).toBe(201);
    livekit.failNext({ kind: "hang" });
    expectEnvelope(await call("DELETE", `/v1/ingress/${created.body.id}`, { token: t.key.secret }), 502, "upstream_error");
    expect((await call("GET", `/v1/ingress/${created.body.id}`, { token: t.key.secret })).status).toBe(200);
  });
});
