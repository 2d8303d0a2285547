import { env } from "cloudflare:workers";
import { EgressClient, EncodedFileOutput } from "livekit-server-sdk";
import { describe, expect, it } from "vitest";
import { call, expectEnvelope } from "../support/api";
import { leftovers } from "../support/db";
import { createTenant } from "../support/factories";
import { useFakeLivekit } from "../support/fake-livekit";
import { createLivekitKey } from "../support/livekit-keys";
import { PULSE_HOST, twirpFailure } from "../support/livekit-sdk";
import { auditActions } from "../support/team";
import { fetchWithEnv, postWith } from "../support/worker-env";

const livekit = useFakeLivekit();

const ADMIN = env.PULSE_ADMIN_TOKEN!;
const OFF = { WEB_EGRESS: "off" };
const web = (url: string) => ({ type: "web", url, file_outputs: [{ filepath: "page.mp4" }] });
const originsPath = (projectId: string) => `/v1/admin/projects/${projectId}/web-egress-origins`;

/** Runs `fn` with LiveKit's SDK reaching a Worker whose vars are replaced by `vars`. */
async function withSdkReaching<T>(vars: Record<string, string>, fn: () => Promise<T>): Promise<T> {
  const previous = globalThis.fetch;
  globalThis.fetch = (async (input: RequestInfo | URL, init?: RequestInit) => {
    const url = input instanceof Request ? input.url : String(input);
    return url.startsWith(`${PULSE_HOST}/`) ? fetchWithEnv(vars, new Request(input, init)) : previous(input, init);
  }) as typeof fetch;
  try {
    return await fn();
  } finally {
    globalThis.fetch = previous;
  }
}

describe("WEB_EGRESS=off", () => {
  it("refuses a web egress (a browser inside the platform network loading a tenant's page) with 403, over REST and Twirp", async () => {
    const t = await createTenant();
    expectEnvelope(await postWith(OFF, "/v1/egress", t.key.secret, web("https://example.com/")), 403, "forbidden");

    const lk = await createLivekitKey(t.user, t.project.id);
    const egress = new EgressClient(PULSE_HOST, lk.api_key, lk.api_secret);
    const failure = await withSdkReaching(OFF, () => twirpFailure(egress.startWebEgress("https://example.com/", { file: new EncodedFileOutput({ filepath: "p.mp4" }) })));
    expect(failure.code).toBe("permission_denied");
    expect(livekit.calls).toHaveLength(0);
    expect(await leftovers("egress", t.project.id)).toBe(0);

    // Other egress types are not affected.
    const composite = await postWith(OFF, "/v1/egress", t.key.secret, { type: "room_composite", room: "r", file_outputs: [{ filepath: "r.mp4" }] });
    expect(composite.status).toBe(201);
  });
});

describe("a project's web egress origin allow-list", () => {
  it("limits web egress to the listed origins once an operator sets it, audited; other origins are 403", async () => {
    const t = await createTenant();
    const other = await createTenant();
    const set = await call("PUT", originsPath(t.project.id), { token: ADMIN, body: { origins: ["https://app.example.com", "HTTPS://Dash.Example.com:443/", "https://app.example.com"] } });
    expect(set.status).toBe(200);
    expect(set.body).toEqual({ project_id: t.project.id, origins: ["https://app.example.com", "https://dash.example.com"] });
    expect((await call("GET", originsPath(t.project.id), { token: ADMIN })).body.origins).toEqual(["https://app.example.com", "https://dash.example.com"]);
    expect((await auditActions(t.org.id, t.project.id)).filter((a) => a.action === "project.web_egress_origins_updated")).toEqual([
      { action: "project.web_egress_origins_updated", actor_id: "platform_admin", metadata: expect.stringContaining("https://dash.example.com") },
    ]);

    expect((await call("POST", "/v1/egress", { token: t.key.secret, body: web("https://app.example.com/show?x=1") })).status).toBe(201);
    for (const url of ["https://evil.example.com/", "http://app.example.com/", "https://app.example.com:8443/", "https://app.example.com.evil.test/"]) {
      const res = await call("POST", "/v1/egress", { token: t.key.secret, body: web(url) });
      expect(expectEnvelope(res, 403, "forbidden").message, url).toContain("allowed origins");
    }
    expect(livekit.callsTo("StartWebEgress")).toHaveLength(1);
    // Another project has no list.
    expect((await call("POST", "/v1/egress", { token: other.key.secret, body: web("https://evil.example.com/") })).status).toBe(201);

    // null removes the list; [] allows no web egress at all.
    await call("PUT", originsPath(t.project.id), { token: ADMIN, body: { origins: null } });
    expect((await call("POST", "/v1/egress", { token: t.key.secret, body: web("https://evil.example.com/") })).status).toBe(201);
    await call("PUT", originsPath(t.project.id), { token: ADMIN, body: { origins: [] } });
    expectEnvelope(await call("POST", "/v1/egress", { token: t.key.secret, body: web("https://app.example.com/") }), 403, "forbidden");
    expect((await call("POST", "/v1/egress", { token: t.key.secret, body: { type: "room_composite", room: "r", file_outputs: [{ filepath: "r.mp4" }] } })).status).toBe(201);
  });

  it("is set by the platform admin only, for a live project, with origins and nothing more", async () => {
    const t = await createTenant();
    expectEnvelope(await call("PUT", originsPath(t.project.id), { token: t.user.token, body: { origins: [] } }), 401, "unauthenticated");
    expectEnvelope(await call("PUT", originsPath(t.project.id), { token: t.key.secret, body: { origins: [] } }), 401, "unauthenticated");
    expectEnvelope(await call("PUT", originsPath("proj_doesnotexist"), { token: ADMIN, body: { origins: [] } }), 404, "not_found");
    for (const [origins, path] of [
      [["https://app.example.com/path"], "origins.0"],
      [["https://example.com", "https://u:p@example.com"], "origins.1"],
      [["ftp://example.com"], "origins.0"],
      [["https://example.com?q"], "origins.0"],
      ["https://example.com", "origins"],
    ] as const) {
      const res = await call("PUT", originsPath(t.project.id), { token: ADMIN, body: { origins } });
      expect(expectEnvelope(res, 400, "validation_failed").details!.map((d) => d.path), JSON.stringify(origins)).toContain(path);
    }
    expectEnvelope(await call("PUT", originsPath(t.project.id), { token: ADMIN, body: { origins: [], extra: 1 } }), 400, "validation_failed");
    expect((await call("GET", originsPath(t.project.id), { token: ADMIN })).body).toEqual({ project_id: t.project.id, origins: null });
  });
});
