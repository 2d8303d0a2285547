import { EgressClient } from "livekit-server-sdk";
import { afterEach, describe, expect, it, vi } from "vitest";
import { call } from "../support/api";
import { createTenant } from "../support/factories";
import { useFakeLivekit } from "../support/fake-livekit";
import { createLivekitKey } from "../support/livekit-keys";
import { PULSE_HOST, usePulseHost } from "../support/livekit-sdk";
import { deliverLivekitEvent, ns } from "../support/livekit-webhook";
import { createEndpoint, fakeReceiver, receiverHost } from "../support/webhook-receiver";

const livekit = useFakeLivekit();
usePulseHost();

/** What LiveKit's workers say when a tenant aims them at an internal service. */
const ORACLE = "dial tcp 10.0.0.5:6379: connect: connection refused";

afterEach(() => {
  vi.restoreAllMocks();
});

describe("LiveKit's egress error text (a port-scan oracle)", () => {
  it("never reaches the tenant's record, webhooks or Twirp answers, only the operator log", async () => {
    const t = await createTenant();
    const lk = await createLivekitKey(t.user, t.project.id);
    const host = receiverHost();
    const received = fakeReceiver(host, [200]);
    await createEndpoint(t.user.token, t.project.id, { url: `https://${host}/standard` });
    await createEndpoint(t.user.token, t.project.id, { url: `https://${host}/livekit`, format: "livekit", livekit_key_id: lk.id });
    const started = await call("POST", "/v1/egress", { token: t.key.secret, body: { type: "room_composite", room: "r", stream_outputs: [{ urls: ["rtmp://10.0.0.5:6379/live/k"] }] } });
    expect(started.status).toBe(201);
    const warnings = vi.spyOn(console, "warn");

    const wireRoom = `${t.project.id}:r`;
    const t0 = Date.now() - 60_000;
    await deliverLivekitEvent({
      event: "egress_ended",
      room: { sid: "RM_1", name: wireRoom },
      egressInfo: {
        egressId: started.body.egress_id,
        roomName: wireRoom,
        status: "EGRESS_FAILED",
        error: ORACLE,
        details: `pipeline: ${ORACLE}`,
        startedAt: ns(t0),
        endedAt: ns(t0 + 30_000),
        streamResults: [{ url: "rtmp://10.0.0.5:6379/live/k", status: "FAILED", error: ORACLE }],
      },
    });

    const record = await call("GET", `/v1/egress/${started.body.id}`, { token: t.key.secret });
    expect(record.body).toMatchObject({ status: "EGRESS_FAILED", error: "egress failed" });

    // What the tenant's receivers get, in Pulse's format and in LiveKit's.
    await vi.waitFor(() => expect(received).toHaveLength(2), { timeout: 10_000, interval: 100 });
    for (const delivery of received) {
      expect(delivery.body).not.toContain("connect: connection refused");
      expect(delivery.body).toContain("egress failed");
    }
    expect(received.map((d) => new URL(d.url).pathname).sort()).toEqual(["/livekit", "/standard"]);

    const egress = new EgressClient(PULSE_HOST, lk.api_key, lk.api_secret);
    const [info] = await egress.listEgress({ egressId: started.body.egress_id });
    expect(info!.error).toBe("egress failed");

    // The operator still learns what happened.
    const logged = warnings.mock.calls.map(([line]) => String(line)).find((line) => line.includes('"egress_error"'));
    expect(logged).toBeDefined();
    expect(JSON.parse(logged!)).toMatchObject({ egress_id: started.body.egress_id, status: "EGRESS_FAILED", error: ORACLE, stream_errors: [ORACLE] });
  });

  it.each([
    ["EGRESS_ABORTED", "egress aborted"],
    ["EGRESS_LIMIT_REACHED", "egress limit reached"],
    ["EGRESS_ACTIVE", "egress output failed"],
  ])("answers a %s egress with LiveKit's error as %j", async (status, text) => {
    const t = await createTenant();
    const started = await call("POST", "/v1/egress", { token: t.key.secret, body: { type: "room_composite", room: "r", file_outputs: [{ filepath: "a.mp4" }] } });
    await deliverLivekitEvent({
      event: status === "EGRESS_ACTIVE" ? "egress_updated" : "egress_ended",
      egressInfo: { egressId: started.body.egress_id, roomName: `${t.project.id}:r`, status, error: ORACLE, startedAt: ns(Date.now() - 60_000) },
    });
    expect((await call("GET", `/v1/egress/${started.body.id}`, { token: t.key.secret })).body.error).toBe(text);
  });

  it("replaces the error in LiveKit's answer to a stop, too", async () => {
    const t = await createTenant();
    const started = await call("POST", "/v1/egress", { token: t.key.secret, body: { type: "room_composite", room: "r", file_outputs: [{ filepath: "a.mp4" }] } });
    // LiveKit ends it with an output's failure still attached.
    livekit.egresses.get(started.body.egress_id)!.error = ORACLE;
    const stopped = await call("POST", `/v1/egress/${started.body.id}/stop`, { token: t.key.secret });
    expect(stopped.status).toBe(200);
    expect(stopped.body).toMatchObject({ status: "EGRESS_ENDING", error: "egress output failed" });
  });
});
