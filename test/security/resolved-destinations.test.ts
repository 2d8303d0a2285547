import { describe, expect, it } from "vitest";
import type { Bindings } from "../../src/env";
import { BASE, call, expectEnvelope, readResponse } from "../support/api";
import { leftovers } from "../support/db";
import { createTenant } from "../support/factories";
import { useFakeDns, type FakeAnswer } from "../support/fake-dns";
import { useFakeLivekit } from "../support/fake-livekit";
import { DEV_NO_PRIVATE, fetchWithEnv, postWith, PRODUCTION } from "../support/worker-env";

const livekit = useFakeLivekit();
const dns = useFakeDns({ timeoutMs: 300 });

const S3 = { access_key: "AKIA-TENANT", secret: "tenant-s3-secret", bucket: "tenant-bucket" };
const OWN_FILE = [{ filepath: "page.mp4", s3: S3 }];

async function sendWith(vars: Partial<Record<keyof Bindings, unknown>>, method: string, path: string, token: string, body: unknown) {
  const headers = { Authorization: `Bearer ${token}`, "Content-Type": "application/json", "CF-Connecting-IP": "203.0.113.10" };
  return readResponse(await fetchWithEnv(vars, new Request(`${BASE}${path}`, { method, headers, body: JSON.stringify(body) })));
}

const webEgress = (url: string) => ({ type: "web", url, file_outputs: OWN_FILE });

describe("destination host names are resolved wherever private destinations are refused", () => {
  it("refuses a web egress page on a name that resolves to the cloud metadata address", async () => {
    const t = await createTenant();
    dns.set("169.254.169.254.nip.io", { A: ["169.254.169.254"] });
    const res = await postWith(PRODUCTION, "/v1/egress", t.key.secret, webEgress("https://169.254.169.254.nip.io/latest/meta-data/"));
    const error = expectEnvelope(res, 400, "validation_failed");
    expect(error.details).toEqual([{ path: "url", message: expect.stringContaining("169.254.169.254.nip.io resolves to 169.254.169.254") }]);
    // Both address families were asked for, of the right name.
    expect(dns.queries.map((q) => `${q.type} ${q.name}`).sort()).toEqual(["A 169.254.169.254.nip.io", "AAAA 169.254.169.254.nip.io"]);
    expect(livekit.calls).toHaveLength(0);
    expect(await leftovers("egress", t.project.id)).toBe(0);
  });

  it("refuses an RTMP stream to a name that resolves to loopback, naming the stream URL", async () => {
    const t = await createTenant();
    dns.set("127.0.0.1.nip.io", { A: ["127.0.0.1"] });
    const res = await postWith(PRODUCTION, "/v1/egress", t.key.secret, {
      type: "room_composite",
      room: "r",
      stream_outputs: [{ urls: ["rtmp://live.example.com/app/k", "rtmp://127.0.0.1.nip.io/live/k"] }],
    });
    expect(expectEnvelope(res, 400, "validation_failed").details).toEqual([{ path: "stream_outputs.0.urls.1", message: expect.stringContaining("127.0.0.1.nip.io") }]);
    expect(livekit.calls).toHaveLength(0);
  });

  it.each<[string, FakeAnswer]>([
    ["a private IPv4 network", { A: ["10.20.30.40"] }],
    ["CGNAT", { A: ["100.64.1.1"] }],
    ["the unspecified address", { A: ["0.0.0.0"] }],
    ["the IPv6 metadata address", { AAAA: ["fd00:ec2::254"] }],
    ["IPv6 loopback", { AAAA: ["::1"] }],
    ["IPv6 link-local", { AAAA: ["fe80::1"] }],
    ["one private address among public ones", { A: ["93.184.215.14", "192.168.1.1"], AAAA: ["2606:4700::1111"] }],
    ["a CNAME to a private address", { CNAME: "internal.corp.example.net", A: ["172.16.5.5"] }],
  ])("refuses a name that resolves to %s", async (_, answer) => {
    const t = await createTenant();
    dns.set("sneaky.attacker.test", answer);
    const res = await postWith(PRODUCTION, "/v1/egress", t.key.secret, webEgress("https://sneaky.attacker.test/"));
    expect(expectEnvelope(res, 400, "validation_failed").details).toEqual([{ path: "url", message: expect.stringMatching(/^Must not point at a local or private network address: sneaky\.attacker\.test resolves to /) }]);
    expect(livekit.calls).toHaveLength(0);
  });

  it.each<[string, FakeAnswer, RegExp]>([
    ["a name that does not exist (NXDOMAIN)", { status: 3 }, /NXDOMAIN/],
    ["a name without any address", { A: [] }, /no address/],
    ["a resolver failure (SERVFAIL)", { status: 2 }, /DNS status 2/],
    ["a resolver answering HTTP 500", { failure: "http_500" }, /HTTP 500/],
    ["a resolver answering something other than DNS JSON", { failure: "not_json" }, /not DNS JSON/],
    ["an unreachable resolver", { failure: "network" }, /could not be reached/],
    ["a resolver that never answers", { failure: "hang" }, /did not answer in time/],
  ])("fails closed on %s, naming the host", async (_, answer, reason) => {
    const t = await createTenant();
    dns.set("unknowable.attacker.test", answer);
    const res = await postWith(PRODUCTION, "/v1/egress", t.key.secret, webEgress("https://unknowable.attacker.test/"));
    const [detail] = expectEnvelope(res, 400, "validation_failed").details!;
    expect(detail!.path).toBe("url");
    expect(detail!.message).toContain("unknowable.attacker.test cannot be resolved");
    expect(detail!.message).toMatch(reason);
    expect(livekit.calls).toHaveLength(0);
  });

  it("refuses a stream added to a running egress when its host resolves to a private address", async () => {
    const t = await createTenant();
    const started = await call("POST", "/v1/egress", { token: t.key.secret, body: { type: "room_composite", room: "r", stream_outputs: [{ urls: ["rtmp://live.example.com/app/k"] }] } });
    expect(started.status).toBe(201);
    dns.set("rtmp.attacker.test", { A: ["10.0.0.1"] });
    const res = await postWith(PRODUCTION, `/v1/egress/${started.body.id}/streams`, t.key.secret, { add_output_urls: ["rtmp://rtmp.attacker.test/live/k"] });
    expect(expectEnvelope(res, 400, "validation_failed").details).toEqual([{ path: "add_output_urls.0", message: expect.stringContaining("rtmp.attacker.test") }]);
    expect(livekit.callsTo("UpdateStream")).toHaveLength(0);
  });

  it("refuses an S3 endpoint whose host resolves to a private address", async () => {
    const t = await createTenant();
    dns.set("minio.attacker.test", { A: ["192.168.0.9"] });
    const res = await postWith(PRODUCTION, "/v1/egress", t.key.secret, {
      type: "room_composite",
      room: "r",
      file_outputs: [{ filepath: "a.mp4", s3: { ...S3, endpoint: "https://minio.attacker.test:9000" } }],
    });
    expect(expectEnvelope(res, 400, "validation_failed").details![0]!.path).toBe("file_outputs.0.s3.endpoint");
    expect(livekit.calls).toHaveLength(0);
  });

  it("refuses an ingress pull URL whose host resolves to a private address", async () => {
    const t = await createTenant();
    dns.set("feed.attacker.test", { AAAA: ["::ffff:127.0.0.1"] });
    const res = await postWith(PRODUCTION, "/v1/ingress", t.key.secret, { input_type: "url", room: "stage", participant_identity: "feed", url: "https://feed.attacker.test/live.m3u8" });
    expect(expectEnvelope(res, 400, "validation_failed").details).toEqual([{ path: "url", message: expect.stringContaining("feed.attacker.test") }]);
    expect(livekit.calls).toHaveLength(0);
    expect(await leftovers("ingress", t.project.id)).toBe(0);
  });

  it("refuses a webhook endpoint URL whose host resolves to a private address, on create and on update", async () => {
    const t = await createTenant();
    const hooks = `/v1/projects/${t.project.id}/webhooks`;
    dns.set("hooks.attacker.test", { A: ["169.254.169.254"] });
    const created = await postWith(PRODUCTION, hooks, t.user.token, { url: "https://hooks.attacker.test/pulse" });
    expect(expectEnvelope(created, 400, "validation_failed").details).toEqual([{ path: "url", message: expect.stringContaining("hooks.attacker.test") }]);

    const ok = await postWith(PRODUCTION, hooks, t.user.token, { url: "https://hooks.example.com/pulse" });
    expect(ok.status).toBe(201);
    const updated = await sendWith(PRODUCTION, "PATCH", `${hooks}/${ok.body.id}`, t.user.token, { url: "https://hooks.attacker.test/pulse" });
    expect(expectEnvelope(updated, 400, "validation_failed").details![0]!.path).toBe("url");
    const read = await call("GET", `${hooks}/${ok.body.id}`, { token: t.user.token });
    expect(read.body.url).toBe("https://hooks.example.com/pulse");
  });

  it("passes names that resolve only to public addresses on to LiveKit, asking once per name", async () => {
    const t = await createTenant();
    dns.set("cdn.tenant.test", { A: ["198.41.0.4"], AAAA: ["2001:503:ba3e::2:30"] });
    const res = await postWith(DEV_NO_PRIVATE, "/v1/egress", t.key.secret, {
      type: "web",
      url: "https://cdn.tenant.test/show",
      file_outputs: [{ filepath: "a.mp4", s3: { ...S3, endpoint: "https://cdn.tenant.test" } }],
      stream_outputs: [{ urls: ["rtmps://cdn.tenant.test:443/app/k"] }],
    });
    expect(res.status).toBe(201);
    expect(dns.namesAsked()).toEqual(["cdn.tenant.test"]);
    expect(dns.queries).toHaveLength(2);
    expect(livekit.callsTo("StartWebEgress")[0]!.body.url).toBe("https://cdn.tenant.test/show");
  });

  it("resolves nothing where private destinations are allowed (local development)", async () => {
    const t = await createTenant();
    const res = await call("POST", "/v1/egress", { token: t.key.secret, body: webEgress("https://anything.attacker.test/") });
    expect(res.status).toBe(201);
    expect(dns.queries).toEqual([]);
  });
});
