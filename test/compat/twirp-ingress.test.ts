import { env } from "cloudflare:workers";
import { IngressClient, IngressInput } from "livekit-server-sdk";
import { describe, expect, it } from "vitest";
import { call } from "../support/api";
import { createTenant } from "../support/factories";
import { useFakeLivekit } from "../support/fake-livekit";
import { createLivekitKey } from "../support/livekit-keys";
import { PULSE_HOST, twirpFailure, usePulseHost } from "../support/livekit-sdk";
import { auditActions } from "../support/team";

const fake = useFakeLivekit();
usePulseHost();

async function tenantWithIngressClient() {
  const tenant = await createTenant();
  const lk = await createLivekitKey(tenant.user, tenant.project.id);
  return { ...tenant, lk, ingress: new IngressClient(PULSE_HOST, lk.api_key, lk.api_secret) };
}


describe("livekit.Ingress through Pulse with livekit-server-sdk's IngressClient", () => {
  it("creates, lists, updates and deletes an ingress with the tenant's room names, namespaced upstream", async () => {
    const { ingress, project, org, key } = await tenantWithIngressClient();
    const created = await ingress.createIngress(IngressInput.RTMP_INPUT, {
      name: "OBS «main»",
      roomName: "studio",
      participantIdentity: "streamer",
      participantName: "The Streamer",
    });
    expect(created.ingressId).toMatch(/^IN_/);
    expect(created.roomName).toBe("studio");
    expect(created.streamKey).toMatch(/^sk_/);
    expect(created.inputType).toBe(IngressInput.RTMP_INPUT);
    expect(created.name).toBe("OBS «main»");
    expect(fake.callsTo("CreateIngress")[0]!.body).toMatchObject({
      inputType: "RTMP_INPUT",
      roomName: `${project.id}:studio`,
      participantIdentity: "streamer",
      participantName: "The Streamer",
    });

    const pulled = await ingress.createIngress(IngressInput.URL_INPUT, { roomName: "cinema", participantIdentity: "film", url: "https://media.example.com/film.mp4" });
    expect(pulled.roomName).toBe("cinema");

    expect((await ingress.listIngress()).map((i) => i.ingressId).sort()).toEqual([created.ingressId, pulled.ingressId].sort());
    const listed = await ingress.listIngress({ roomName: "studio" });
    expect(listed.map((i) => [i.ingressId, i.roomName, i.streamKey])).toEqual([[created.ingressId, "studio", created.streamKey]]);
    expect((await ingress.listIngress({ ingressId: pulled.ingressId })).map((i) => i.url)).toEqual(["https://media.example.com/film.mp4"]);

    const moved = await ingress.updateIngress(created.ingressId, { roomName: "stage", name: "OBS backup" });
    expect([moved.roomName, moved.name, moved.participantIdentity]).toEqual(["stage", "OBS backup", "streamer"]);
    expect(fake.callsTo("UpdateIngress")[0]!.body).toEqual({ ingressId: created.ingressId, name: "OBS backup", roomName: `${project.id}:stage` });
    expect(fake.ingresses.get(created.ingressId)!.room_name).toBe(`${project.id}:stage`);
    // The REST API sees the same record.
    const rest = await call("GET", "/v1/ingress", { token: key.secret });
    expect(rest.body.data.find((i: { ingress_id: string }) => i.ingress_id === created.ingressId)).toMatchObject({ room: "stage", name: "OBS backup" });

    const deleted = await ingress.deleteIngress(created.ingressId);
    expect(deleted.ingressId).toBe(created.ingressId);
    expect(fake.ingresses.has(created.ingressId)).toBe(false);
    expect((await ingress.listIngress()).map((i) => i.ingressId)).toEqual([pulled.ingressId]);

    for (const c of fake.calls) expect(c.claims?.iss).toBe(env.LIVEKIT_API_KEY);
    const row = await env.DB.prepare("SELECT id FROM ingresses WHERE ingress_id = ?").bind(created.ingressId).first<{ id: string }>();
    expect((await auditActions(org.id, row!.id)).map((a) => a.action)).toEqual(["ingress.created", "ingress.updated", "ingress.deleted"]);
  });

  it("answers not_found for another project's ingress on every method, without calling LiveKit", async () => {
    const a = await tenantWithIngressClient();
    const b = await tenantWithIngressClient();
    const theirs = await a.ingress.createIngress(IngressInput.WHIP_INPUT, { roomName: "private", participantIdentity: "cam" });
    const before = fake.calls.length;
    for (const attempt of [
      () => b.ingress.updateIngress(theirs.ingressId, { name: "mine now" }),
      () => b.ingress.deleteIngress(theirs.ingressId),
      () => b.ingress.listIngress({ ingressId: theirs.ingressId }),
    ]) {
      const error = await twirpFailure(attempt());
      expect([error.status, error.code]).toEqual([404, "not_found"]);
    }
    expect(fake.calls.length).toBe(before);
    expect(await b.ingress.listIngress({ roomName: "private" })).toEqual([]);
    expect(await b.ingress.listIngress({ roomName: `${a.project.id}:private` })).toEqual([]);
  });

  it("refuses options Pulse does not support, and what the REST API refuses, as invalid_argument", async () => {
    const { ingress } = await tenantWithIngressClient();
    const disabled = await twirpFailure(ingress.createIngress(IngressInput.RTMP_INPUT, { roomName: "r", participantIdentity: "p", enabled: false }));
    expect([disabled.status, disabled.code]).toEqual([400, "invalid_argument"]);
    expect(disabled.message).toContain("enabled");
    const noUrl = await twirpFailure(ingress.createIngress(IngressInput.URL_INPUT, { roomName: "r", participantIdentity: "p" }));
    expect(noUrl.code).toBe("invalid_argument");
    expect(fake.calls).toEqual([]);
  });
});
