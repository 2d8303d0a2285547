/**
 * The Twirp server itself: who may call it, LiveKit's grants, Twirp's error format and statuses,
 * both encodings, and the project's rate limit and quota.
 */
import { env } from "cloudflare:workers";
import { EncodedFileOutput, ListEgressResponse, RoomCompositeEgressRequest, EgressInfo, ListEgressRequest } from "@livekit/protocol";
import { AccessToken, EgressClient, IngressClient, IngressInput } from "livekit-server-sdk";
import { describe, expect, it } from "vitest";
import { setClock } from "../../src/lib/clock";
import { call } from "../support/api";
import { createTenant } from "../support/factories";
import { useFakeLivekit } from "../support/fake-livekit";
import { createLivekitKey } from "../support/livekit-keys";
import { PULSE_HOST, twirp, twirpFailure, usePulseHost } from "../support/livekit-sdk";
import { addUsage } from "../support/billing";

const fake = useFakeLivekit();
usePulseHost();


async function tokenFor(apiKey: string, secret: string, grant: Record<string, unknown>, ttl: string | number = "10m") {
  const at = new AccessToken(apiKey, secret, { ttl });
  at.addGrant(grant);
  return at.toJwt();
}

async function expectTwirpError(res: Response, status: number, code: string) {
  expect(res.status).toBe(status);
  expect(res.headers.get("Content-Type")).toBe("application/json");
  const body = (await res.json()) as { code: string; msg: string; meta: { request_id: string } };
  expect(body.code).toBe(code);
  expect(body.msg.length).toBeGreaterThan(0);
  expect(body.meta.request_id).toBe(res.headers.get("X-Request-Id"));
  return body;
}

describe("the Twirp API's credentials", () => {
  it("refuses a Pulse API key, as a bearer and as a JWT secret, with unauthenticated", async () => {
    const { key } = await createTenant();
    const asBearer = await twirpFailure(new EgressClient(PULSE_HOST, "", "", { token: key.secret }).listEgress());
    expect([asBearer.status, asBearer.code]).toEqual([401, "unauthenticated"]);
    const signedWithIt = await twirpFailure(new EgressClient(PULSE_HOST, key.id, key.secret).listEgress());
    expect([signedWithIt.status, signedWithIt.code]).toEqual([401, "unauthenticated"]);
  });

  it("refuses the deployment's own key, a wrong secret, an expired token and garbage", async () => {
    const { user, project } = await createTenant();
    const lk = await createLivekitKey(user, project.id);
    for (const client of [
      new EgressClient(PULSE_HOST, env.LIVEKIT_API_KEY!, env.LIVEKIT_API_SECRET!),
      new EgressClient(PULSE_HOST, lk.api_key, `${lk.api_secret.slice(0, -1)}${lk.api_secret.endsWith("x") ? "y" : "x"}`),
      new EgressClient(PULSE_HOST, "APInobodyhasthis", lk.api_secret),
      new EgressClient(PULSE_HOST, "", "", { token: "not.a.jwt" }),
    ]) {
      const error = await twirpFailure(client.listEgress());
      expect([error.status, error.code]).toEqual([401, "unauthenticated"]);
    }
    const token = await tokenFor(lk.api_key, lk.api_secret, { roomRecord: true }, 60);
    setClock(() => Date.now() + 10 * 60_000);
    const expired = await twirpFailure(new EgressClient(PULSE_HOST, "", "", { token }).listEgress());
    expect([expired.status, expired.code]).toEqual([401, "unauthenticated"]);
    await expectTwirpError(await twirp("livekit.Egress/ListEgress", { contentType: "application/json", body: "{}" }), 401, "unauthenticated");
  });

  it("stops accepting a LiveKit key at once when it is deleted, even in an isolate that cached it", async () => {
    const { user, project } = await createTenant();
    const lk = await createLivekitKey(user, project.id);
    const egress = new EgressClient(PULSE_HOST, lk.api_key, lk.api_secret);
    expect(await egress.listEgress()).toEqual([]);
    expect((await call("DELETE", `/v1/projects/${project.id}/livekit-keys/${lk.id}`, { token: user.token })).status).toBe(204);
    const error = await twirpFailure(egress.listEgress());
    expect([error.status, error.code]).toEqual([401, "unauthenticated"]);
  });

  it("requires exactly the grant LiveKit requires for each service", async () => {
    const { user, project } = await createTenant();
    const lk = await createLivekitKey(user, project.id);
    const ingressOnly = await tokenFor(lk.api_key, lk.api_secret, { ingressAdmin: true });
    const recordOnly = await tokenFor(lk.api_key, lk.api_secret, { roomRecord: true });
    const joinOnly = await tokenFor(lk.api_key, lk.api_secret, { room: "r", roomAdmin: true, roomCreate: true, roomList: true });
    for (const denied of [
      () => new EgressClient(PULSE_HOST, "", "", { token: ingressOnly }).listEgress(),
      () => new EgressClient(PULSE_HOST, "", "", { token: joinOnly }).stopEgress("EG_x"),
      () => new IngressClient(PULSE_HOST, "", "", { token: recordOnly }).listIngress(),
      () => new IngressClient(PULSE_HOST, "", "", { token: joinOnly }).createIngress(IngressInput.RTMP_INPUT, { roomName: "r", participantIdentity: "p" }),
    ]) {
      const error = await twirpFailure(denied());
      expect([error.status, error.code]).toEqual([403, "permission_denied"]);
    }
    expect(fake.calls).toEqual([]);
    expect(await new EgressClient(PULSE_HOST, "", "", { token: recordOnly }).listEgress()).toEqual([]);
  });
});

describe("the Twirp API's routing and encodings", () => {
  it("answers unimplemented for methods Pulse does not serve, bad_route for other methods and content types, malformed for bodies it cannot read", async () => {
    const { user, project } = await createTenant();
    const lk = await createLivekitKey(user, project.id);
    const token = await tokenFor(lk.api_key, lk.api_secret, { roomRecord: true });
    for (const rpc of ["livekit.Egress/StartEgress", "livekit.SIP/ListSIPInboundTrunk", "livekit.RoomService/UpdateSubscriptions", "livekit.Egress/NoSuchThing"]) {
      await expectTwirpError(await twirp(rpc, { token, contentType: "application/json", body: "{}" }), 501, "unimplemented");
    }
    await expectTwirpError(await twirp("livekit.Egress/ListEgress", { token, method: "GET" }), 404, "bad_route");
    await expectTwirpError(await twirp("livekit.Egress/ListEgress", { token, contentType: "text/plain", body: "{}" }), 404, "bad_route");
    await expectTwirpError(await twirp("livekit.Egress/ListEgress", { token, contentType: "application/json", body: "{not json" }), 400, "malformed");
    await expectTwirpError(await twirp("livekit.Egress/ListEgress", { token, contentType: "application/json", body: '{"roomName": 12}' }), 400, "malformed");
    await expectTwirpError(await twirp("livekit.Egress/ListEgress", { token, contentType: "application/protobuf", body: new Uint8Array([0xff, 0xff, 0xff]) }), 400, "malformed");
  });

  it("gives the same result for a protobuf request as for the JSON request of the same call", async () => {
    const { user, project } = await createTenant();
    const lk = await createLivekitKey(user, project.id);
    const token = await tokenFor(lk.api_key, lk.api_secret, { roomRecord: true });
    const start = new RoomCompositeEgressRequest({ roomName: "both-ways", fileOutputs: [new EncodedFileOutput({ filepath: "a.mp4" })] });
    const byProtobuf = await twirp("livekit.Egress/StartRoomCompositeEgress", { token, contentType: "application/protobuf", body: start.toBinary() });
    expect(byProtobuf.status).toBe(200);
    expect(byProtobuf.headers.get("Content-Type")).toBe("application/protobuf");
    const started = EgressInfo.fromBinary(new Uint8Array(await byProtobuf.arrayBuffer()));
    expect(started.roomName).toBe("both-ways");
    expect(fake.callsTo("StartRoomCompositeEgress")[0]!.body.roomName).toBe(`${project.id}:both-ways`);

    const list = new ListEgressRequest({ roomName: "both-ways" });
    const asJson = await twirp("livekit.Egress/ListEgress", { token, contentType: "application/json", body: JSON.stringify(list.toJson()) });
    const asProtobuf = await twirp("livekit.Egress/ListEgress", { token, contentType: "application/protobuf", body: list.toBinary() });
    expect([asJson.status, asProtobuf.status]).toEqual([200, 200]);
    const jsonText = await asJson.text();
    // LiveKit's server writes snake_case with defaults.
    expect(JSON.parse(jsonText).items[0]).toMatchObject({ egress_id: started.egressId, room_name: "both-ways", status: "EGRESS_STARTING" });
    const fromJson = ListEgressResponse.fromJsonString(jsonText);
    const fromProtobuf = ListEgressResponse.fromBinary(new Uint8Array(await asProtobuf.arrayBuffer()));
    expect(fromProtobuf.equals(fromJson)).toBe(true);
    expect(fromJson.items.map((e) => e.egressId)).toEqual([started.egressId]);
  });
});

describe("the Twirp API's limits", () => {
  it("applies the project's rate limit: resource_exhausted with Retry-After", async () => {
    const { user, project } = await createTenant();
    await env.DB.prepare("UPDATE projects SET rate_limit_per_min = 2 WHERE id = ?").bind(project.id).run();
    const lk = await createLivekitKey(user, project.id);
    const token = await tokenFor(lk.api_key, lk.api_secret, { roomRecord: true });
    const list = (body = "{}") => twirp("livekit.Egress/ListEgress", { token, contentType: "application/json", body });
    const ok = await list();
    expect([ok.status, ok.headers.get("RateLimit-Policy"), ok.headers.get("RateLimit")]).toEqual([200, '"project";q=2;w=60', expect.stringMatching(/^"project";r=1;t=\d+$/)]);
    // A limited request that then fails still says where the caller stands, as on the REST API.
    const failed = await list('{"roomName": 12}');
    await expectTwirpError(failed, 400, "malformed");
    expect([failed.headers.get("RateLimit-Policy"), failed.headers.get("RateLimit")]).toEqual(['"project";q=2;w=60', expect.stringMatching(/^"project";r=0;t=\d+$/)]);
    const limited = await list();
    await expectTwirpError(limited, 429, "resource_exhausted");
    expect(Number(limited.headers.get("Retry-After"))).toBeGreaterThan(0);
    expect(limited.headers.get("RateLimit-Policy")).toBe('"project";q=2;w=60');
  });

  it("applies the plan's quota: resource_exhausted before LiveKit hears of it", async () => {
    const { user, org, project } = await createTenant();
    await addUsage({ orgId: org.id, projectId: project.id }, "egress_minutes", 10_000_000, Date.now());
    const lk = await createLivekitKey(user, project.id);
    const error = await twirpFailure(new EgressClient(PULSE_HOST, lk.api_key, lk.api_secret).startRoomCompositeEgress("r", { file: new EncodedFileOutput({ filepath: "a.mp4" }) }));
    expect([error.status, error.code]).toEqual([429, "resource_exhausted"]);
    expect(error.message).toContain("egress minutes");
    expect(fake.calls).toEqual([]);
  });
});
