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

const S3 = { access_key: "AKIA-TENANT", secret: "tenant-s3-secret", bucket: "tenant-bucket" };
const OWN_FILE = [{ filepath: "page.mp4", s3: S3 }];

/** [what, body, the field the error must name] — each one points LiveKit at a private host. */
const PRIVATE_DESTINATIONS: [string, Record<string, unknown>, string][] = [
  ["a web page on the cloud metadata service", { type: "web", url: "http://169.254.169.254/latest/meta-data/", file_outputs: OWN_FILE }, "url"],
  ["a web page on localhost", { type: "web", url: "http://localhost:8080/admin", file_outputs: OWN_FILE }, "url"],
  ["a web page on an internal name", { type: "web", url: "https://metadata.google.internal/computeMetadata/v1/", file_outputs: OWN_FILE }, "url"],
  ["a web page on IPv4-mapped IPv6 metadata", { type: "web", url: "http://[::ffff:169.254.169.254]/", file_outputs: OWN_FILE }, "url"],
  ["a web page on a decimal loopback literal", { type: "web", url: "http://2130706433/", file_outputs: OWN_FILE }, "url"],
  ["a track websocket on loopback", { type: "track", room: "r", track_id: "TR_1", websocket_url: "ws://127.0.0.1:9000/sink" }, "websocket_url"],
  ["a track file's S3 endpoint on a private network", { type: "track", room: "r", track_id: "TR_1", file: { filepath: "t.ogg", s3: { ...S3, endpoint: "http://10.0.0.5:9000" } } }, "file.s3.endpoint"],
  ["a file output's S3 endpoint on a private network", { type: "room_composite", room: "r", file_outputs: [{ filepath: "a.mp4", s3: { ...S3, endpoint: "http://192.168.1.20:9000" } }] }, "file_outputs.0.s3.endpoint"],
  [
    "a segment output's S3 endpoint on CGNAT",
    { type: "room_composite", room: "r", segment_outputs: [{ filename_prefix: "s", playlist_name: "p.m3u8", s3: { ...S3, endpoint: "https://100.64.0.1" } }] },
    "segment_outputs.0.s3.endpoint",
  ],
  ["the second RTMP url on a private network", { type: "room_composite", room: "r", stream_outputs: [{ urls: ["rtmp://a.rtmp.youtube.com/live2/k", "rtmp://172.16.0.9/live/k"] }] }, "stream_outputs.0.urls.1"],
  ["an RTMPS url on localhost", { type: "room_composite", room: "r", stream_outputs: [{ urls: ["rtmps://localhost/live/k"] }] }, "stream_outputs.0.urls.0"],
  // rtmp: is not a special scheme, so the URL parser keeps its host opaque; it must still be read as 127.0.0.1.
  ["an RTMP url with a hex loopback host", { type: "room_composite", room: "r", stream_outputs: [{ urls: ["rtmp://0x7f.0.0.1/live/k"] }] }, "stream_outputs.0.urls.0"],
  ["an RTMP url with a percent-encoded loopback host", { type: "room_composite", room: "r", stream_outputs: [{ urls: ["rtmp://%31%32%37.0.0.1/live/k"] }] }, "stream_outputs.0.urls.0"],
  ["an SRT url on IPv6 loopback", { type: "web", url: "https://example.com/", stream_outputs: [{ protocol: "srt", urls: ["srt://[::1]:9000"] }] }, "stream_outputs.0.urls.0"],
];

describe("POST /v1/egress destinations in production", () => {
  it.each(PRIVATE_DESTINATIONS)("refuses %s with 400 naming the field, before LiveKit, leaving no record", async (_, body, field) => {
    const t = await createTenant();
    const res = await postWith(PRODUCTION, "/v1/egress", t.key.secret, body);
    const error = expectEnvelope(res, 400, "validation_failed");
    expect(error.details).toEqual([{ path: field, message: "Must not point at a local or private network address" }]);
    expect(livekit.calls).toHaveLength(0);
    expect(await leftovers("egress", t.project.id)).toBe(0);
  });

  it("names every private destination of one request", async () => {
    const t = await createTenant();
    const res = await postWith(PRODUCTION, "/v1/egress", t.key.secret, {
      type: "web",
      url: "http://169.254.169.254/latest/meta-data/",
      file_outputs: [{ filepath: "a.mp4", s3: { ...S3, endpoint: "http://127.0.0.1:9000" } }],
      stream_outputs: [{ urls: ["rtmp://live.example.com/app/k", "rtmp://10.1.2.3/app/k"] }],
    });
    const error = expectEnvelope(res, 400, "validation_failed");
    expect(error.details!.map((d: { path: string }) => d.path)).toEqual(["url", "file_outputs.0.s3.endpoint", "stream_outputs.0.urls.1"]);
    expect(livekit.calls).toHaveLength(0);
  });

  it("ignores WEBHOOK_ALLOW_PRIVATE_URLS=true in production", async () => {
    const t = await createTenant();
    const res = await postWith({ ...PRODUCTION, WEBHOOK_ALLOW_PRIVATE_URLS: "true" }, "/v1/egress", t.key.secret, {
      type: "web",
      url: "http://169.254.169.254/latest/meta-data/",
      file_outputs: OWN_FILE,
    });
    expectEnvelope(res, 400, "validation_failed");
    expect(livekit.calls).toHaveLength(0);
  });
});

describe("POST /v1/egress destinations in development", () => {
  it("refuses private destinations when WEBHOOK_ALLOW_PRIVATE_URLS is false", async () => {
    const t = await createTenant();
    const res = await postWith(DEV_NO_PRIVATE, "/v1/egress", t.key.secret, { type: "web", url: "http://169.254.169.254/latest/meta-data/", file_outputs: OWN_FILE });
    expect(expectEnvelope(res, 400, "validation_failed").details![0]!.path).toBe("url");
    expect(livekit.calls).toHaveLength(0);
    expect(await leftovers("egress", t.project.id)).toBe(0);
  });

  it("passes public destinations through to LiveKit when private ones are refused", async () => {
    const t = await createTenant();
    const res = await postWith(DEV_NO_PRIVATE, "/v1/egress", t.key.secret, {
      type: "web",
      url: "http://news.example.com/show",
      file_outputs: [{ filepath: "a.mp4", s3: { ...S3, endpoint: "https://s3.eu-west-1.amazonaws.com" } }],
      stream_outputs: [{ urls: ["rtmps://live.example.com:443/app/k"] }],
    });
    expect(res.status).toBe(201);
    const [sent] = livekit.callsTo("StartWebEgress");
    expect(sent!.body.url).toBe("http://news.example.com/show");
    expect((sent!.body.streamOutputs as { urls: string[] }[])[0]!.urls).toEqual(["rtmps://live.example.com:443/app/k"]);
  });

  it("allows private destinations by default, for a local LiveKit reaching local test servers", async () => {
    const t = await createTenant();
    const res = await call("POST", "/v1/egress", {
      token: t.key.secret,
      body: { type: "web", url: "http://127.0.0.1:3000/page", stream_outputs: [{ urls: ["rtmp://192.168.1.10/live/k"] }] },
    });
    expect(res.status).toBe(201);
    const [sent] = livekit.callsTo("StartWebEgress");
    expect(sent!.body.url).toBe("http://127.0.0.1:3000/page");
    expect((sent!.body.streamOutputs as { urls: string[] }[])[0]!.urls).toEqual(["rtmp://192.168.1.10/live/k"]);
  });
});
