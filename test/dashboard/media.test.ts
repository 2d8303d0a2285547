import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { EgressResults } from "../../src/dashboard/media-pages";
import { call } from "../support/api";
import { DashboardClient, hasForm } from "../support/dashboard";
import { createTenant, createUser } from "../support/factories";
import { useFakeLivekit } from "../support/fake-livekit";
import { joinOrg } from "../support/team";

const livekit = useFakeLivekit();
const HOSTILE = "<img src=x onerror=alert(1)>";

async function startEgress(room = "show") {
  const t = await createTenant();
  const started = await call("POST", "/v1/egress", { token: t.key.secret, body: { type: "room_composite", room, file_outputs: [{ filepath: "show.mp4" }] } });
  expect(started.status, started.text).toBe(201);
  return { ...t, egress: started.body as { id: string; egress_id: string }, detail: `/projects/${t.project.id}/egress/${started.body.id}` };
}

describe("egress and ingress in the dashboard", () => {
  it("lists an egress and shows its status, outputs and error, with Stop for an admin", async () => {
    const { user, project, egress, detail } = await startEgress(HOSTILE);
    await env.DB.prepare("UPDATE egresses SET error = ? WHERE id = ?").bind(`bucket ${HOSTILE} refused`, egress.id).run();
    const client = DashboardClient.signedIn(user.token);
    const list = await client.get(`/projects/${project.id}/egress`);
    expect(list.status).toBe(200);
    expect(list.html).toContain(`href="${detail}"`);
    expect(list.html).not.toContain("<img src=x");
    const page = await client.get(detail);
    expect(page.status).toBe(200);
    expect(page.html).toContain("EGRESS_STARTING");
    expect(page.html).toContain(egress.egress_id);
    expect(page.html).toContain("show.mp4");
    expect(page.html).toContain("bucket &lt;img src=x onerror=alert(1)&gt; refused");
    expect(hasForm(page.html, `${detail}/stop`)).toBe(true);

    const stopped = await client.post(`${detail}/stop`, {}, { from: detail });
    expect(stopped.status).toBe(303);
    expect(livekit.callsTo("StopEgress")).toHaveLength(1);
    expect((await client.get(detail)).html).toContain("Stop requested");
  });

  it("shows a viewer no Stop button, refuses the viewer's forged stop with 403 and another org's egress with 404", async () => {
    const { user, org, project, detail } = await startEgress();
    const viewer = DashboardClient.signedIn((await joinOrg(user, org.id, "viewer")).token);
    const page = await viewer.get(detail);
    expect(page.status).toBe(200);
    expect(hasForm(page.html, `${detail}/stop`)).toBe(false);
    expect((await viewer.post(`${detail}/stop`, {}, { from: detail })).status).toBe(403);
    expect(livekit.callsTo("StopEgress")).toHaveLength(0);

    const stranger = DashboardClient.signedIn((await createUser()).token);
    for (const path of [`/projects/${project.id}/egress`, detail, `/projects/${project.id}/ingress`]) expect((await stranger.get(path)).status, path).toBe(404);
    const other = await createTenant();
    const elsewhere = detail.replace(project.id, other.project.id);
    expect((await DashboardClient.signedIn(other.user.token).get(elsewhere)).status).toBe(404);
  });

  it("renders LiveKit's results of an egress when the record carries them", async () => {
    const html = String(
      await EgressResults({
        record: {
          fileResults: JSON.stringify([{ filename: "show.mp4", location: "s3://bucket/show.mp4", size: 1048576, duration: 61 }]),
          streamResults: [{ url: "rtmp://x.example.com/live/{redacted}", status: "FINISHED", duration: 60 }],
          segmentResults: null,
        },
      })!.toString(),
    );
    expect(html).toContain('id="results"');
    expect(html).toContain("s3://bucket/show.mp4");
    expect(html).toContain("1048576");
    expect(html).toContain("FINISHED");
    expect(html).not.toContain("Segments");
    expect(EgressResults({ record: { outputs: "[]" } })).toBeNull();
  });
});
