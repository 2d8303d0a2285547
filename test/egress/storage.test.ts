import { describe, expect, it } from "vitest";
import { call, expectEnvelope } from "../support/api";
import { createTenant } from "../support/factories";
import { useFakeLivekit } from "../support/fake-livekit";
import { leftovers } from "../support/db";

const livekit = useFakeLivekit();

const S3 = { access_key: "AKIA-TENANT", secret: "tenant-s3-secret", bucket: "tenant-bucket" };

describe("egress outputs on the platform's default storage", () => {
  it("are written under the project's own prefix, while the record keeps the tenant's paths", async () => {
    const t = await createTenant();
    const res = await call("POST", "/v1/egress", {
      token: t.key.secret,
      body: {
        type: "room_composite",
        room: "show",
        file_outputs: [{ filepath: "rec/{room_name}.mp4" }],
        segment_outputs: [{ filename_prefix: "hls/seg", playlist_name: "hls/index.m3u8", live_playlist_name: "hls/live.m3u8" }],
      },
    });
    expect(res.status).toBe(201);
    const [sent] = livekit.callsTo("StartRoomCompositeEgress");
    expect(sent!.body.fileOutputs).toEqual([{ filepath: `${t.project.id}/rec/show.mp4` }]);
    expect(sent!.body.segmentOutputs).toEqual([
      { protocol: "HLS_PROTOCOL", filenamePrefix: `${t.project.id}/hls/seg`, playlistName: `${t.project.id}/hls/index.m3u8`, livePlaylistName: `${t.project.id}/hls/live.m3u8` },
    ]);

    const expected = {
      file_outputs: [{ filepath: "rec/{room_name}.mp4" }],
      segment_outputs: [{ filename_prefix: "hls/seg", playlist_name: "hls/index.m3u8", live_playlist_name: "hls/live.m3u8" }],
    };
    expect(res.body.outputs).toEqual(expected);
    const read = await call("GET", `/v1/egress/${res.body.id}`, { token: t.key.secret });
    expect(read.body.outputs).toEqual(expected);
  });

  // LiveKit files the playlist, live playlist and segments under the playlist's directory (or the
  // segment prefix's when the playlist has none), with a segment prefix in another directory taken
  // relative to it: the project prefix must land on that one directory, exactly once.
  it.each([
    [
      "a playlist without a directory puts everything under the project",
      { filename_prefix: "seg", playlist_name: "index.m3u8", live_playlist_name: "live.m3u8" },
      { filenamePrefix: "seg", playlistName: "P/index.m3u8", livePlaylistName: "live.m3u8" },
    ],
    [
      "a segment directory without a playlist directory is prefixed once",
      { filename_prefix: "hls/seg", playlist_name: "index.m3u8" },
      { filenamePrefix: "P/hls/seg", playlistName: "index.m3u8" },
    ],
    [
      "segments in a subdirectory stay relative to the prefixed playlist directory",
      { filename_prefix: "parts/seg", playlist_name: "show/index.m3u8", live_playlist_name: "show/live.m3u8" },
      { filenamePrefix: "parts/seg", playlistName: "P/show/index.m3u8", livePlaylistName: "P/show/live.m3u8" },
    ],
    [
      "dot segments are compared as LiveKit cleans them",
      { filename_prefix: "./show//seg", playlist_name: "show/index.m3u8" },
      { filenamePrefix: "P/./show//seg", playlistName: "P/show/index.m3u8" },
    ],
  ])("segment outputs: %s", async (_, output, expected) => {
    const t = await createTenant();
    const res = await call("POST", "/v1/egress", { token: t.key.secret, body: { type: "room_composite", room: "r", segment_outputs: [output] } });
    expect(res.status).toBe(201);
    const withProject = Object.fromEntries(Object.entries(expected).map(([k, v]) => [k, v.replace(/^P\//, `${t.project.id}/`)]));
    expect(livekit.callsTo("StartRoomCompositeEgress")[0]!.body.segmentOutputs).toEqual([{ protocol: "HLS_PROTOCOL", ...withProject }]);
    expect(res.body.outputs.segment_outputs).toEqual([output]);
  });

  it("prefixes a track egress file too", async () => {
    const t = await createTenant();
    const res = await call("POST", "/v1/egress", { token: t.key.secret, body: { type: "track", room: "r", track_id: "TR_1", file: { filepath: "audio/t.ogg" } } });
    expect(res.status).toBe(201);
    expect(livekit.callsTo("StartTrackEgress")[0]!.body.file).toEqual({ filepath: `${t.project.id}/audio/t.ogg` });
    expect(res.body.outputs.file).toEqual({ filepath: "audio/t.ogg" });
  });

  it("leaves paths on the tenant's own storage as given", async () => {
    const t = await createTenant();
    const res = await call("POST", "/v1/egress", { token: t.key.secret, body: { type: "room_composite", room: "r", file_outputs: [{ filepath: "rec/a.mp4", s3: S3 }] } });
    expect(res.status).toBe(201);
    expect(livekit.callsTo("StartRoomCompositeEgress")[0]!.body.fileOutputs).toEqual([
      { filepath: "rec/a.mp4", s3: { accessKey: S3.access_key, secret: S3.secret, bucket: S3.bucket } },
    ]);
  });

  it("accepts dots that are not a parent segment", async () => {
    const t = await createTenant();
    const res = await call("POST", "/v1/egress", { token: t.key.secret, body: { type: "room_composite", room: "r", file_outputs: [{ filepath: "a..b/./c...mp4" }] } });
    expect(res.status).toBe(201);
    expect(livekit.callsTo("StartRoomCompositeEgress")[0]!.body.fileOutputs).toEqual([{ filepath: `${t.project.id}/a..b/./c...mp4` }]);
  });
});

describe("egress paths that could leave their prefix", () => {
  it.each([
    ["a parent segment at the start", { type: "room_composite", room: "r", file_outputs: [{ filepath: "../proj_other/x.mp4" }] }, "file_outputs.0.filepath"],
    ["a parent segment in the middle", { type: "room_composite", room: "r", file_outputs: [{ filepath: "a/../../b.mp4" }] }, "file_outputs.0.filepath"],
    ["a bare parent segment", { type: "room_composite", room: "r", segment_outputs: [{ filename_prefix: "..", playlist_name: "p.m3u8" }] }, "segment_outputs.0.filename_prefix"],
    ["an absolute path", { type: "room_composite", room: "r", file_outputs: [{ filepath: "/etc/x.mp4" }] }, "file_outputs.0.filepath"],
    ["a backslash", { type: "room_composite", room: "r", file_outputs: [{ filepath: "a\\..\\..\\b.mp4" }] }, "file_outputs.0.filepath"],
    ["a traversing playlist name", { type: "web", url: "https://example.com", segment_outputs: [{ filename_prefix: "s", playlist_name: "../p.m3u8" }] }, "segment_outputs.0.playlist_name"],
    ["a traversing live playlist name", { type: "web", url: "https://example.com", segment_outputs: [{ filename_prefix: "s", playlist_name: "p.m3u8", live_playlist_name: "x/../../l.m3u8" }] }, "segment_outputs.0.live_playlist_name"],
    ["a traversing track file", { type: "track", room: "r", track_id: "TR_1", file: { filepath: "../t.ogg" } }, "file.filepath"],
    ["a traversing path on the tenant's own storage", { type: "room_composite", room: "r", file_outputs: [{ filepath: "../x.mp4", s3: S3 }] }, "file_outputs.0.filepath"],
  ])("refuses %s with 400 naming the field, before LiveKit, leaving no record", async (_, body, field) => {
    const t = await createTenant();
    const res = await call("POST", "/v1/egress", { token: t.key.secret, body });
    const error = expectEnvelope(res, 400, "validation_failed");
    expect(error.details!.map((d: { path: string }) => d.path)).toContain(field);
    expect(livekit.calls).toHaveLength(0);
    expect(await leftovers("egress", t.project.id)).toBe(0);
  });
});

describe("egress storage blocks", () => {
  it.each([
    ["S3 without access_key", { s3: { secret: "s", bucket: "b" } }, "file_outputs.0.s3.access_key"],
    ["S3 without secret", { s3: { access_key: "k", bucket: "b" } }, "file_outputs.0.s3.secret"],
    ["S3 with only a session token", { s3: { session_token: "t", bucket: "b" } }, "file_outputs.0.s3.access_key"],
    ["GCP without credentials", { gcp: { bucket: "b" } }, "file_outputs.0.gcp.credentials"],
    ["Azure without account_key", { azure: { account_name: "a", container_name: "c" } }, "file_outputs.0.azure.account_key"],
  ])("refuses %s with 400, before LiveKit (LiveKit would upload with the platform's own credentials)", async (_, storage, field) => {
    const t = await createTenant();
    const res = await call("POST", "/v1/egress", { token: t.key.secret, body: { type: "room_composite", room: "r", file_outputs: [{ filepath: "a.mp4", ...storage }] } });
    const error = expectEnvelope(res, 400, "validation_failed");
    expect(error.details!.map((d: { path: string }) => d.path)).toContain(field);
    expect(livekit.calls).toHaveLength(0);
    expect(await leftovers("egress", t.project.id)).toBe(0);
  });

  it("refuses a segment output's or track file's storage without credentials too", async () => {
    const t = await createTenant();
    const segments = await call("POST", "/v1/egress", {
      token: t.key.secret,
      body: { type: "room_composite", room: "r", segment_outputs: [{ filename_prefix: "s", playlist_name: "p.m3u8", gcp: { bucket: "b" } }] },
    });
    expect(expectEnvelope(segments, 400, "validation_failed").details!.map((d: { path: string }) => d.path)).toContain("segment_outputs.0.gcp.credentials");
    const track = await call("POST", "/v1/egress", { token: t.key.secret, body: { type: "track", room: "r", track_id: "TR_1", file: { filepath: "t.ogg", s3: { bucket: "b" } } } });
    expect(expectEnvelope(track, 400, "validation_failed").details!.map((d: { path: string }) => d.path)).toContain("file.s3.access_key");
    expect(livekit.calls).toHaveLength(0);
  });
});
