import { env } from "cloudflare:workers";
import { EgressClient, EncodedFileOutput, EncodedFileType, SegmentedFileOutput, StreamOutput, StreamProtocol, EgressStatus } from "livekit-server-sdk";
import { describe, expect, it } from "vitest";
import { call } from "../support/api";
import { createTenant } from "../support/factories";
import { useFakeLivekit } from "../support/fake-livekit";
import { createLivekitKey } from "../support/livekit-keys";
import { PULSE_HOST, twirpFailure, usePulseHost } from "../support/livekit-sdk";
import { auditActions } from "../support/team";

const fake = useFakeLivekit();
usePulseHost();

async function tenantWithEgressClient() {
  const tenant = await createTenant();
  const lk = await createLivekitKey(tenant.user, tenant.project.id);
  return { ...tenant, lk, egress: new EgressClient(PULSE_HOST, lk.api_key, lk.api_secret) };
}


/** Every upstream call was signed with the deployment's key, never the tenant's, and namespaced. */
function expectSignedByDeployment(projectId: string) {
  expect(fake.calls.length).toBeGreaterThan(0);
  for (const c of fake.calls) {
    expect(c.claims?.iss).toBe(env.LIVEKIT_API_KEY);
    if ("roomName" in c.body) expect(String(c.body.roomName).startsWith(`${projectId}:`)).toBe(true);
  }
}

describe("livekit.Egress through Pulse with livekit-server-sdk's EgressClient", () => {
  it("starts a room-composite egress in the tenant's namespace and answers with the tenant's room", async () => {
    const { egress, project, org, key } = await tenantWithEgressClient();
    const info = await egress.startRoomCompositeEgress(
      "standup",
      { file: new EncodedFileOutput({ filepath: "rec/{room_name}.mp4", fileType: EncodedFileType.MP4 }) },
      { layout: "grid" },
    );
    expect(info.egressId).toMatch(/^EG_/);
    expect(info.roomName).toBe("standup");
    expect(info.status).toBe(EgressStatus.EGRESS_STARTING);

    const [upstream] = fake.callsTo("StartRoomCompositeEgress");
    expect(upstream!.body.roomName).toBe(`${project.id}:standup`);
    expect(upstream!.body.layout).toBe("grid");
    // Pulse fills {room_name} with the tenant's own room, never LiveKit's namespaced one.
    expect(upstream!.body.fileOutputs).toEqual([{ filepath: `${project.id}/rec/standup.mp4`, fileType: "MP4" }]);
    expectSignedByDeployment(project.id);

    // The same record the REST API shows, audited like a REST start.
    const { body } = await call("GET", "/v1/egress", { token: key.secret });
    expect(body.data.map((e: { egress_id: string; room: string }) => [e.egress_id, e.room])).toEqual([[info.egressId, "standup"]]);
    const rows = await env.DB.prepare("SELECT id, type, room FROM egresses WHERE egress_id = ?").bind(info.egressId).all<{ id: string; type: string; room: string }>();
    expect(rows.results).toEqual([{ id: expect.stringMatching(/^eg_/), type: "room_composite", room: "standup" }]);
    expect((await auditActions(org.id, rows.results[0]!.id)).map((a) => a.action)).toEqual(["egress.started"]);
  });

  it("starts web, participant, track-composite and track egresses through the matching LiveKit methods", async () => {
    const { egress, project } = await tenantWithEgressClient();
    const stream = new StreamOutput({ protocol: StreamProtocol.RTMP, urls: ["rtmp://live.example.com/app/key123"] });
    const web = await egress.startWebEgress("https://example.com/board", { stream });
    expect(web.roomName).toBe("");
    const participant = await egress.startParticipantEgress("class", "teacher", { file: new EncodedFileOutput({ filepath: "p.mp4" }) }, { screenShare: true });
    expect(participant.roomName).toBe("class");
    const composite = await egress.startTrackCompositeEgress("class", { segments: new SegmentedFileOutput({ filenamePrefix: "hls/seg", playlistName: "hls/index.m3u8" }) }, { audioTrackId: "TR_a", videoTrackId: "TR_v" });
    expect(composite.roomName).toBe("class");
    const track = await egress.startTrackEgress("class", "wss://sink.example.com/audio", "TR_a");
    expect(track.roomName).toBe("class");

    expect(fake.callsTo("StartWebEgress")[0]!.body).toMatchObject({ url: "https://example.com/board", streamOutputs: [{ protocol: "RTMP", urls: ["rtmp://live.example.com/app/key123"] }] });
    expect(fake.callsTo("StartParticipantEgress")[0]!.body).toMatchObject({ roomName: `${project.id}:class`, identity: "teacher", screenShare: true });
    expect(fake.callsTo("StartTrackCompositeEgress")[0]!.body).toMatchObject({ roomName: `${project.id}:class`, audioTrackId: "TR_a", videoTrackId: "TR_v" });
    expect(fake.callsTo("StartTrackEgress")[0]!.body).toMatchObject({ roomName: `${project.id}:class`, trackId: "TR_a", websocketUrl: "wss://sink.example.com/audio" });
    expectSignedByDeployment(project.id);

    const types = await env.DB.prepare("SELECT type FROM egresses WHERE project_id = ? ORDER BY type").bind(project.id).all<{ type: string }>();
    expect(types.results.map((r) => r.type)).toEqual(["participant", "track", "track_composite", "web"]);
  });

  it("updates the layout and the stream destinations, lists and stops, all with the tenant's room", async () => {
    const { egress, project, org } = await tenantWithEgressClient();
    const started = await egress.startRoomCompositeEgress("town-hall", { stream: new StreamOutput({ urls: ["rtmp://a.example.com/live/k1"] }) });
    const layout = await egress.updateLayout(started.egressId, "speaker");
    expect(layout.roomName).toBe("town-hall");
    expect(fake.callsTo("UpdateLayout")[0]!.body).toEqual({ egressId: started.egressId, layout: "speaker" });

    const streams = await egress.updateStream(started.egressId, ["rtmp://b.example.com/live/k2"], ["rtmp://a.example.com/live/k1"]);
    expect(streams.egressId).toBe(started.egressId);
    expect(fake.egresses.get(started.egressId)!.stream_urls).toEqual(["rtmp://b.example.com/live/k2"]);

    await egress.startRoomCompositeEgress("other-room", { file: new EncodedFileOutput({ filepath: "x.mp4" }) });
    const listed = await egress.listEgress({ roomName: "town-hall" });
    expect(listed.map((e) => [e.egressId, e.roomName])).toEqual([[started.egressId, "town-hall"]]);
    expect((await egress.listEgress()).length).toBe(2);
    expect((await egress.listEgress({ egressId: started.egressId })).map((e) => e.egressId)).toEqual([started.egressId]);

    const stopped = await egress.stopEgress(started.egressId);
    expect(stopped.status).toBe(EgressStatus.EGRESS_ENDING);
    expect(stopped.roomName).toBe("town-hall");
    expect((await egress.listEgress({ active: true })).map((e) => e.egressId)).toContain(started.egressId);
    expectSignedByDeployment(project.id);

    const row = await env.DB.prepare("SELECT id, status FROM egresses WHERE egress_id = ?").bind(started.egressId).first<{ id: string; status: string }>();
    expect(row!.status).toBe("EGRESS_ENDING");
    const actions = (await auditActions(org.id, row!.id)).map((a) => a.action);
    expect(actions).toEqual(["egress.started", "egress.layout_updated", "egress.streams_updated", "egress.stopped"]);
    // Stream keys never reach the audit log.
    expect(JSON.stringify(await auditActions(org.id, row!.id))).not.toContain("k2");
  });

  it("answers not_found for another project's egress on every method, without calling LiveKit", async () => {
    const a = await tenantWithEgressClient();
    const b = await tenantWithEgressClient();
    const theirs = await a.egress.startRoomCompositeEgress("secret-room", { file: new EncodedFileOutput({ filepath: "a.mp4" }) });
    const before = fake.calls.length;
    for (const attempt of [
      () => b.egress.stopEgress(theirs.egressId),
      () => b.egress.updateLayout(theirs.egressId, "grid"),
      () => b.egress.updateStream(theirs.egressId, ["rtmp://x.example.com/live/k"]),
      () => b.egress.listEgress({ egressId: theirs.egressId }),
    ]) {
      const error = await twirpFailure(attempt());
      expect([error.status, error.code]).toEqual([404, "not_found"]);
    }
    expect(fake.calls.length).toBe(before);
    // B naming A's room, even in full, lists and starts only in B's own namespace.
    expect(await b.egress.listEgress({ roomName: "secret-room" })).toEqual([]);
    expect(await b.egress.listEgress({ roomName: `${a.project.id}:secret-room` })).toEqual([]);
    await b.egress.startRoomCompositeEgress(`${a.project.id}:secret-room`, { file: new EncodedFileOutput({ filepath: "b.mp4" }) });
    expect(fake.calls.at(-1)!.body.roomName).toBe(`${b.project.id}:${a.project.id}:secret-room`);
  });

  it("refuses what Pulse does not support by name, and what the REST API refuses, as invalid_argument", async () => {
    const { egress } = await tenantWithEgressClient();
    const preset = await twirpFailure(egress.startRoomCompositeEgress("r", { file: new EncodedFileOutput({ filepath: "a.mp4" }) }, { encodingOptions: 2 }));
    expect([preset.status, preset.code]).toEqual([400, "invalid_argument"]);
    expect(preset.message).toContain("preset");
    const climbing = await twirpFailure(egress.startRoomCompositeEgress("r", { file: new EncodedFileOutput({ filepath: "../other/a.mp4" }) }));
    expect([climbing.status, climbing.code]).toEqual([400, "invalid_argument"]);
    expect(climbing.message).toContain("file_outputs.0.filepath");
    const noOutput = await twirpFailure(egress.startRoomCompositeEgress("r", {}));
    expect(noOutput.code).toBe("invalid_argument");
    expect(fake.calls).toEqual([]);
  });

  it("holds UpdateLayout to the REST route's layout rules: an empty or overlong layout never reaches LiveKit", async () => {
    const { egress } = await tenantWithEgressClient();
    const started = await egress.startRoomCompositeEgress("r", { file: new EncodedFileOutput({ filepath: "a.mp4" }) });
    for (const layout of ["", "x".repeat(129)]) {
      const refused = await twirpFailure(egress.updateLayout(started.egressId, layout));
      expect([refused.status, refused.code]).toEqual([400, "invalid_argument"]);
      expect(refused.message).toContain("layout");
    }
    expect(fake.callsTo("UpdateLayout")).toEqual([]);
  });

  it("passes LiveKit's refusals on in Twirp's terms", async () => {
    const { egress } = await tenantWithEgressClient();
    const started = await egress.startRoomCompositeEgress("r", { file: new EncodedFileOutput({ filepath: "a.mp4" }) });
    await egress.stopEgress(started.egressId);
    // Pulse's record says ENDING: LiveKit refuses a second stop as a failed precondition.
    const again = await twirpFailure(egress.stopEgress(started.egressId));
    expect([again.status, again.code]).toEqual([412, "failed_precondition"]);
    fake.failNext({ kind: "status", status: 503 });
    const down = await twirpFailure(egress.startRoomCompositeEgress("r", { file: new EncodedFileOutput({ filepath: "b.mp4" }) }));
    expect([down.status, down.code]).toEqual([503, "unavailable"]);
  });
});
