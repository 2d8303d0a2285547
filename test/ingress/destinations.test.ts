import { describe, expect, it } from "vitest";
import { call, expectEnvelope } from "../support/api";
import { createTenant } from "../support/factories";
import { useFakeDns } from "../support/fake-dns";
import { useFakeLivekit } from "../support/fake-livekit";
import { DEV_NO_PRIVATE, postWith, PRODUCTION } from "../support/worker-env";
import { leftovers } from "../support/db";

const livekit = useFakeLivekit();
// Public names are resolved where private destinations are refused (answered by the fake resolver).
useFakeDns();

const urlIngress = (url: string) => ({ input_type: "url", room: "stage", participant_identity: "feed", url });

describe("POST /v1/ingress pull URLs", () => {
  it.each([
    ["the cloud metadata service", "http://169.254.169.254/latest/meta-data/"],
    ["localhost", "https://localhost/stream.m3u8"],
    ["an SRT source on a private network", "srt://10.0.0.7:9000"],
    ["an SRT source with a hex loopback host", "srt://0x7f000001:9000"],
    ["IPv6 unique-local", "http://[fd00::1]/live.m3u8"],
  ])("refuses %s in production with 400 naming url, before LiveKit, leaving no record", async (_, url) => {
    const t = await createTenant();
    const res = await postWith(PRODUCTION, "/v1/ingress", t.key.secret, urlIngress(url));
    expect(expectEnvelope(res, 400, "validation_failed").details).toEqual([{ path: "url", message: "Must not point at a local or private network address" }]);
    expect(livekit.calls).toHaveLength(0);
    expect(await leftovers("ingress", t.project.id)).toBe(0);
  });

  it("refuses private sources in development when WEBHOOK_ALLOW_PRIVATE_URLS is false, and passes public ones", async () => {
    const t = await createTenant();
    const refused = await postWith(DEV_NO_PRIVATE, "/v1/ingress", t.key.secret, urlIngress("http://192.168.0.10/live.m3u8"));
    expect(expectEnvelope(refused, 400, "validation_failed").details![0]!.path).toBe("url");
    expect(livekit.calls).toHaveLength(0);

    const accepted = await postWith(DEV_NO_PRIVATE, "/v1/ingress", t.key.secret, urlIngress("https://cdn.example.com/live.m3u8"));
    expect(accepted.status).toBe(201);
    expect(livekit.callsTo("CreateIngress")[0]!.body.url).toBe("https://cdn.example.com/live.m3u8");
  });

  it("allows private sources in development by default", async () => {
    const t = await createTenant();
    const res = await call("POST", "/v1/ingress", { token: t.key.secret, body: urlIngress("http://127.0.0.1:8080/live.m3u8") });
    expect(res.status).toBe(201);
    expect(livekit.callsTo("CreateIngress")[0]!.body.url).toBe("http://127.0.0.1:8080/live.m3u8");
  });
});
