/**
 * Image outputs (a still every `capture_interval` seconds) on the egress types that take outputs,
 * through REST and through LiveKit's EgressClient: translated for LiveKit, filed under the project
 * on the platform's storage, stored without credentials, checked like every other output.
 */
import { EncodedFileOutput, EgressClient, ImageOutput } from "livekit-server-sdk";
import { describe, expect, it } from "vitest";
import { call, expectEnvelope } from "../support/api";
import { createTenant } from "../support/factories";
import { useFakeLivekit } from "../support/fake-livekit";
import { createLivekitKey } from "../support/livekit-keys";
import { PULSE_HOST, twirpFailure, usePulseHost } from "../support/livekit-sdk";
import { DEV_NO_PRIVATE, postWith } from "../support/worker-env";

const fake = useFakeLivekit();
usePulseHost();

const s3 = { access_key: "AKIAIMAGES", secret: "s3cr3t-images", bucket: "thumbs", region: "eu-west-1" };

describe("image outputs", () => {
  it("are sent to LiveKit on room-composite, web, participant and track-composite egress, under the project on platform storage", async () => {
    const t = await createTenant();
    const image = { capture_interval: 10, width: 640, height: 360, filename_prefix: "thumbs/show" };
    const bodies = [
      { type: "room_composite", room: "show", image_outputs: [image] },
      { type: "web", url: "https://example.com/board", image_outputs: [image] },
      { type: "participant", room: "show", identity: "host", image_outputs: [image] },
      { type: "track_composite", room: "show", video_track_id: "TR_v", image_outputs: [{ ...image, s3 }] },
    ];
    for (const body of bodies) {
      const res = await call("POST", "/v1/egress", { token: t.key.secret, body });
      expect(res.status, res.text).toBe(201);
      expect(res.body.outputs.image_outputs).toEqual([body.type === "track_composite" ? { ...image, s3: { bucket: "thumbs", region: "eu-west-1" } } : image]);
    }
    const sent = fake.calls.map((c) => [c.method, c.body.imageOutputs]);
    const platform = [{ captureInterval: 10, width: 640, height: 360, filenamePrefix: `${t.project.id}/thumbs/show` }];
    expect(sent).toEqual([
      ["StartRoomCompositeEgress", platform],
      ["StartWebEgress", platform],
      ["StartParticipantEgress", platform],
      ["StartTrackCompositeEgress", [{ captureInterval: 10, width: 640, height: 360, filenamePrefix: "thumbs/show", s3: { accessKey: "AKIAIMAGES", secret: "s3cr3t-images", bucket: "thumbs", region: "eu-west-1" } }]],
    ]);
    const listed = await call("GET", "/v1/egress", { token: t.key.secret });
    expect(listed.text).not.toContain("s3cr3t-images");
    expect(listed.text).not.toContain("AKIAIMAGES");
  });

  it("are refused with 400 naming the field when invalid, before LiveKit hears of them", async () => {
    const t = await createTenant();
    const cases: [Record<string, unknown>, string][] = [
      [{ type: "room_composite", room: "r", image_outputs: [{ capture_interval: 0, filename_prefix: "a" }] }, "image_outputs.0.capture_interval"],
      [{ type: "room_composite", room: "r", image_outputs: [{ capture_interval: 5, filename_prefix: "../b" }] }, "image_outputs.0.filename_prefix"],
      [{ type: "room_composite", room: "r", image_outputs: [{ capture_interval: 5, filename_prefix: "{publisher_identity}/x" }] }, "image_outputs.0.filename_prefix"],
      [{ type: "room_composite", room: "r", image_outputs: [{ capture_interval: 5, filename_prefix: "x", codec: "png" }] }, "image_outputs.0"],
      [{ type: "track", room: "r", track_id: "TR_a", websocket_url: "wss://sink.example.com/a", image_outputs: [{ capture_interval: 5, filename_prefix: "x" }] }, ""],
    ];
    for (const [body, path] of cases) {
      const res = await call("POST", "/v1/egress", { token: t.key.secret, body });
      expectEnvelope(res, 400, "validation_failed");
      expect(JSON.stringify(res.body.error.details ?? [])).toContain(path);
    }
    // LiveKit uploads the images from inside the platform network: a private endpoint is SSRF.
    const ssrf = await postWith(DEV_NO_PRIVATE, "/v1/egress", t.key.secret, {
      type: "room_composite",
      room: "r",
      image_outputs: [{ capture_interval: 5, filename_prefix: "x", s3: { ...s3, endpoint: "http://169.254.169.254/" } }],
    });
    expect(expectEnvelope(ssrf, 400, "validation_failed").details).toEqual([{ path: "image_outputs.0.s3.endpoint", message: expect.any(String) }]);
    expect(fake.calls).toEqual([]);
  });

  it("pass through LiveKit's EgressClient, and what Pulse does not support is refused by name", async () => {
    const t = await createTenant();
    const lk = await createLivekitKey(t.user, t.project.id);
    const egress = new EgressClient(PULSE_HOST, lk.api_key, lk.api_secret);
    const info = await egress.startRoomCompositeEgress("show", {
      file: new EncodedFileOutput({ filepath: "show.mp4" }),
      images: new ImageOutput({ captureInterval: 30, width: 320, height: 180, filenamePrefix: "stills/show" }),
    });
    expect(info.roomName).toBe("show");
    expect(fake.callsTo("StartRoomCompositeEgress")[0]!.body.imageOutputs).toEqual([{ captureInterval: 30, width: 320, height: 180, filenamePrefix: `${t.project.id}/stills/show` }]);
    const record = await call("GET", "/v1/egress", { token: t.key.secret });
    expect(record.body.data[0].outputs.image_outputs).toEqual([{ capture_interval: 30, width: 320, height: 180, filename_prefix: "stills/show" }]);

    const before = fake.calls.length;
    const suffix = await twirpFailure(egress.startRoomCompositeEgress("show", { images: new ImageOutput({ captureInterval: 30, filenamePrefix: "s", filenameSuffix: 1 }) }));
    expect([suffix.code, suffix.message]).toEqual(["invalid_argument", expect.stringContaining("imageOutputs[0].filenameSuffix")]);
    expect(fake.calls.length).toBe(before);
  });
});
