import { IngressClient } from "livekit-server-sdk";
import { afterEach, describe, expect, it, vi } from "vitest";
import { call } from "../support/api";
import { createTenant } from "../support/factories";
import { useFakeLivekit } from "../support/fake-livekit";
import { createLivekitKey } from "../support/livekit-keys";
import { PULSE_HOST, usePulseHost } from "../support/livekit-sdk";
import { deliverLivekitEvent, ns } from "../support/livekit-webhook";
import { createEndpoint, fakeReceiver, receiverHost } from "../support/webhook-receiver";

useFakeLivekit();
usePulseHost();

/** What LiveKit's ingress workers say when a URL ingress points them at an internal service. */
const ORACLE = "dial tcp 10.0.0.5:6379: connect: connection refused";

afterEach(() => {
  vi.restoreAllMocks();
});

async function urlIngress(token: string) {
  const created = await call("POST", "/v1/ingress", { token, body: { input_type: "url", room: "feed", participant_identity: "puller", url: "https://media.example.com/live.m3u8" } });
  expect(created.status, created.text).toBe(201);
  return created.body as { id: string; ingress_id: string };
}

describe("LiveKit's ingress error text (a port-scan oracle for URL ingress)", () => {
  it("never reaches the tenant's record, webhooks or Twirp answers, only the operator log", async () => {
    const t = await createTenant();
    const lk = await createLivekitKey(t.user, t.project.id);
    const host = receiverHost();
    const received = fakeReceiver(host, [200]);
    await createEndpoint(t.user.token, t.project.id, { url: `https://${host}/standard`, events: ["ingress.ended"] });
    await createEndpoint(t.user.token, t.project.id, { url: `https://${host}/livekit`, format: "livekit", livekit_key_id: lk.id, events: ["ingress.ended"] });
    const ingress = await urlIngress(t.key.secret);
    const warnings = vi.spyOn(console, "warn");

    const t0 = Date.now() - 60_000;
    await deliverLivekitEvent({
      event: "ingress_ended",
      ingressInfo: {
        ingressId: ingress.ingress_id,
        roomName: `${t.project.id}:feed`,
        inputType: "URL_INPUT",
        participantIdentity: "puller",
        state: { status: "ENDPOINT_ERROR", error: ORACLE, startedAt: ns(t0), endedAt: ns(t0 + 5_000) },
      },
    });

    const record = await call("GET", `/v1/ingress/${ingress.id}`, { token: t.key.secret });
    expect(record.body).toMatchObject({ status: "ENDPOINT_ERROR", error: "ingress failed" });

    // What the tenant's receivers get, in Pulse's format and in LiveKit's.
    await vi.waitFor(() => expect(received).toHaveLength(2), { timeout: 10_000, interval: 100 });
    for (const delivery of received) {
      expect(delivery.body).not.toContain("connect: connection refused");
      expect(delivery.body).toContain("ingress failed");
    }
    expect(received.map((d) => new URL(d.url).pathname).sort()).toEqual(["/livekit", "/standard"]);

    const twirp = new IngressClient(PULSE_HOST, lk.api_key, lk.api_secret);
    const [info] = await twirp.listIngress({ ingressId: ingress.ingress_id });
    expect(info!.state!.error).toBe("ingress failed");

    // The operator still learns what happened.
    const logged = warnings.mock.calls.map(([line]) => String(line)).find((line) => line.includes('"ingress_error"'));
    expect(logged).toBeDefined();
    expect(JSON.parse(logged!)).toMatchObject({ ingress_id: ingress.ingress_id, status: "ENDPOINT_ERROR", error: ORACLE });
  });

  it("answers an error reported while the ingress is in another state as \"ingress input error\", and no error as none", async () => {
    const t = await createTenant();
    const ingress = await urlIngress(t.key.secret);
    const info = (state: Record<string, unknown>) => ({ ingressId: ingress.ingress_id, roomName: `${t.project.id}:feed`, inputType: "URL_INPUT", participantIdentity: "puller", state });
    const t0 = Date.now() - 60_000;
    await deliverLivekitEvent({ event: "ingress_started", ingressInfo: info({ status: "ENDPOINT_BUFFERING", error: ORACLE, startedAt: ns(t0) }) });
    expect((await call("GET", `/v1/ingress/${ingress.id}`, { token: t.key.secret })).body).toMatchObject({ status: "ENDPOINT_BUFFERING", error: "ingress input error" });
    await deliverLivekitEvent({ event: "ingress_ended", ingressInfo: info({ status: "ENDPOINT_COMPLETE", startedAt: ns(t0), endedAt: ns(t0 + 30_000) }) });
    expect((await call("GET", `/v1/ingress/${ingress.id}`, { token: t.key.secret })).body).toMatchObject({ status: "ENDPOINT_COMPLETE", error: null });
  });
});
