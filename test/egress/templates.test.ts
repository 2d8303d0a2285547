import { DirectFileOutput, EgressClient } from "livekit-server-sdk";
import { describe, expect, it } from "vitest";
import { call, expectEnvelope } from "../support/api";
import { leftovers } from "../support/db";
import { createTenant } from "../support/factories";
import { useFakeLivekit } from "../support/fake-livekit";
import { createLivekitKey } from "../support/livekit-keys";
import { PULSE_HOST, twirpFailure, usePulseHost } from "../support/livekit-sdk";

const livekit = useFakeLivekit();
usePulseHost();

const S3 = { access_key: "AKIA-TENANT", secret: "tenant-s3-secret", bucket: "tenant-bucket" };
const ESCAPE = "../../proj_VICTIM/x";

async function start(token: string, body: Record<string, unknown>) {
  return call("POST", "/v1/egress", { token, body });
}

/** Every path LiveKit was asked to write, in request order. */
function sentPaths(method: string): string[] {
  return livekit.callsTo(method).flatMap((c) => {
    const b = c.body as { fileOutputs?: { filepath: string }[]; segmentOutputs?: Record<string, string>[]; file?: { filepath: string } };
    return [
      ...(b.fileOutputs ?? []).map((f) => f.filepath),
      ...(b.segmentOutputs ?? []).flatMap((s) => [s.filenamePrefix, s.playlistName, s.livePlaylistName].filter((p): p is string => p !== undefined)),
      ...(b.file ? [b.file.filepath] : []),
    ];
  });
}

/** LiveKit's cleaning (path.Clean) of a path: what it resolves to on storage once filled. */
function cleaned(path: string): string[] {
  const out: string[] = [];
  for (const segment of path.split("/")) {
    if (segment === "" || segment === ".") continue;
    if (segment === "..") out.pop();
    else out.push(segment);
  }
  return out;
}

describe("egress path templates LiveKit would fill with free text", () => {
  it("refuses a track egress whose path would expand a publisher identity outside the project prefix", async () => {
    const t = await createTenant();
    for (const file of [{ filepath: "{publisher_identity}" }, { filepath: "rec/{publisher_identity}/{track_id}.ogg", s3: S3 }]) {
      const res = await start(t.key.secret, { type: "track", room: "r", track_id: "TR_1", file });
      const error = expectEnvelope(res, 400, "validation_failed");
      expect(error.details).toEqual([{ path: "file.filepath", message: expect.stringContaining("{publisher_identity}") }]);
    }
    const composite = await start(t.key.secret, { type: "track_composite", room: "r", video_track_id: "TR_V", file_outputs: [{ filepath: "{publisher_identity}.mp4" }] });
    expect(expectEnvelope(composite, 400, "validation_failed").details![0]!.path).toBe("file_outputs.0.filepath");
    expect(livekit.calls).toHaveLength(0);
    expect(await leftovers("egress", t.project.id)).toBe(0);
  });

  it("fills a participant egress's {publisher_identity} itself, so an identity that climbs directories stays one segment in the project prefix", async () => {
    const t = await createTenant();
    const res = await start(t.key.secret, {
      type: "participant",
      room: "r",
      identity: ESCAPE,
      file_outputs: [{ filepath: "rec/{publisher_identity}.mp4" }],
      segment_outputs: [{ filename_prefix: "hls/{publisher_identity}/seg", playlist_name: "hls/{publisher_identity}.m3u8" }],
    });
    expect(res.status).toBe(201);
    const id = "..%2F..%2Fproj_VICTIM%2Fx";
    expect(sentPaths("StartParticipantEgress")).toEqual([`${t.project.id}/rec/${id}.mp4`, `hls/${id}/seg`, `${t.project.id}/hls/${id}.m3u8`]);
    for (const path of sentPaths("StartParticipantEgress")) expect(cleaned(path).join("/")).not.toContain("proj_VICTIM/");
    // The record shows what the tenant asked for.
    expect(res.body.outputs.file_outputs).toEqual([{ filepath: "rec/{publisher_identity}.mp4" }]);
  });

  it("records an ingress's participant under its identity escaped, whatever identity the ingress was given", async () => {
    const t = await createTenant();
    const ingress = await call("POST", "/v1/ingress", { token: t.key.secret, body: { input_type: "rtmp", room: "stage", participant_identity: ".." } });
    expect(ingress.status).toBe(201);
    const res = await start(t.key.secret, { type: "participant", room: "stage", identity: "..", file_outputs: [{ filepath: "cams/{publisher_identity}/main.mp4" }] });
    expect(res.status).toBe(201);
    expect(sentPaths("StartParticipantEgress")).toEqual([`${t.project.id}/cams/%2E%2E/main.mp4`]);
  });

  it("fills {room_name} with the tenant's own room name, escaped, never LiveKit's namespaced one", async () => {
    const t = await createTenant();
    const climbing = await start(t.key.secret, {
      type: "room_composite",
      room: "x/../../../proj_victim/rec",
      file_outputs: [{ filepath: "{room_name}.mp4" }],
      segment_outputs: [{ filename_prefix: "s/{room_name}", playlist_name: "p.m3u8" }],
    });
    expect(climbing.status).toBe(201);
    const plain = await start(t.key.secret, { type: "room_composite", room: "weekly: all-hands ☕", file_outputs: [{ filepath: "{room_name}-{time}.mp4", s3: S3 }] });
    expect(plain.status).toBe(201);
    expect(sentPaths("StartRoomCompositeEgress")).toEqual([
      `${t.project.id}/x%2F..%2F..%2F..%2Fproj_victim%2Frec.mp4`,
      `${t.project.id}/s/x%2F..%2F..%2F..%2Fproj_victim%2Frec`,
      "p.m3u8",
      // On the tenant's own storage too: LiveKit would have written `proj_…:weekly…`.
      "weekly%3A%20all-hands%20%E2%98%95-{time}.mp4",
    ]);
  });

  it("names a bare directory itself, so LiveKit never makes a file name out of a namespaced room, an identity or a track id", async () => {
    const t = await createTenant();
    expect((await start(t.key.secret, { type: "room_composite", room: "a/../../b", file_outputs: [{ filepath: "rec/" }] })).status).toBe(201);
    expect((await start(t.key.secret, { type: "participant", room: "r", identity: ESCAPE, file_outputs: [{ filepath: "." }] })).status).toBe(201);
    expect((await start(t.key.secret, { type: "track", room: "r", track_id: "TR_../1", file: { filepath: "tracks/" } })).status).toBe(201);
    expect((await start(t.key.secret, { type: "track_composite", room: "../up", audio_track_id: "TR_A", segment_outputs: [{ filename_prefix: "hls/", playlist_name: "hls/" }] })).status).toBe(201);
    expect([...sentPaths("StartRoomCompositeEgress"), ...sentPaths("StartParticipantEgress"), ...sentPaths("StartTrackEgress"), ...sentPaths("StartTrackCompositeEgress")]).toEqual([
      `${t.project.id}/rec/a%2F..%2F..%2Fb-{time}`,
      `${t.project.id}/./..%2F..%2Fproj_VICTIM%2Fx-{time}`,
      `${t.project.id}/tracks/TR_..%2F1-{time}`,
      `${t.project.id}/hls/`,
      `${t.project.id}/hls/..%2Fup-{time}`,
    ]);
  });

  it.each([
    ["{room_name} in a web egress", { type: "web", url: "https://example.com/", file_outputs: [{ filepath: "{room_name}.mp4" }] }, "file_outputs.0.filepath"],
    ["{track_id} in a room composite", { type: "room_composite", room: "r", segment_outputs: [{ filename_prefix: "s", playlist_name: "{track_id}.m3u8" }] }, "segment_outputs.0.playlist_name"],
    ["{publisher_identity} spelled out through a room named after it", { type: "track", room: "publisher_identity", track_id: "TR_1", file: { filepath: "{{room_name}}" } }, "file.filepath"],
    ["a segment LiveKit's empty room id could turn into ..", { type: "room_composite", room: "r", file_outputs: [{ filepath: "a/.{room_id}./b.mp4" }] }, "file_outputs.0.filepath"],
  ])("refuses %s, naming the field, before LiveKit", async (_, body, field) => {
    const t = await createTenant();
    const error = expectEnvelope(await start(t.key.secret, body), 400, "validation_failed");
    expect(error.details!.map((d) => d.path)).toEqual([field]);
    expect(livekit.calls).toHaveLength(0);
  });

  it("leaves LiveKit's own templates ({time}, {utc}, {room_id}, {track_type}, {track_source}) to LiveKit", async () => {
    const t = await createTenant();
    const res = await start(t.key.secret, { type: "track", room: "r", track_id: "TR_1", file: { filepath: "{room_id}/{track_type}-{track_source}-{utc}-{time}.ogg" } });
    expect(res.status).toBe(201);
    expect(sentPaths("StartTrackEgress")).toEqual([`${t.project.id}/{room_id}/{track_type}-{track_source}-{utc}-{time}.ogg`]);
  });

  it("refuses the same templates through the Twirp API (StartTrackEgress)", async () => {
    const t = await createTenant();
    const lk = await createLivekitKey(t.user, t.project.id);
    const egress = new EgressClient(PULSE_HOST, lk.api_key, lk.api_secret);
    const failure = await twirpFailure(egress.startTrackEgress("r", new DirectFileOutput({ filepath: "{publisher_identity}.ogg" }), "TR_1"));
    expect(failure.code).toBe("invalid_argument");
    expect(failure.message).toContain("file.filepath");
    expect(livekit.calls).toHaveLength(0);
  });
});
