import { describe, expect, it } from "vitest";
import { call } from "../support/api";
import { DashboardClient } from "../support/dashboard";
import { createOrg, createProject, createTenant, createUser } from "../support/factories";

const HOSTILE = "<img src=x onerror=alert(1)>";

describe("what the dashboard renders", () => {
  it("escapes a project named <img src=x onerror=alert(1)> everywhere it shows it", async () => {
    const user = await createUser();
    const org = await createOrg(user, `${HOSTILE} Inc`);
    const project = await createProject(user, org.id, HOSTILE);
    const client = DashboardClient.signedIn(user.token);
    for (const path of [`/orgs/${org.id}`, `/projects/${project.id}`, `/projects/${project.id}/keys`, `/orgs/${org.id}/settings`]) {
      const page = await client.get(path);
      expect(page.status, path).toBe(200);
      expect(page.html).not.toContain("<img src=x");
      expect(page.html).toContain("&lt;img src=x onerror=alert(1)&gt;");
    }
  });

  it("shows tenant text byte for byte (quotes, ampersands, emoji, right-to-left)", async () => {
    const { user, org } = await createTenant();
    const name = `Ünïcødé "quotes" & <tags> 🎥 שלום`;
    const project = await createProject(user, org.id, name);
    const page = await DashboardClient.signedIn(user.token).get(`/projects/${project.id}`);
    expect(page.html).toContain("Ünïcødé &quot;quotes&quot; &amp; &lt;tags&gt; 🎥 שלום");
    const api = await call("GET", `/v1/projects/${project.id}`, { token: user.token });
    expect(api.body.name).toBe(name);
  });

  it("gives a form's text area back byte for byte after a rejected submit, a leading newline included", async () => {
    const { user, project } = await createTenant();
    const client = DashboardClient.signedIn(user.token);
    const metadata = '\n\n{"note":"a & <b>"}\n';
    const page = await client.post(`/projects/${project.id}/playground`, { identity: "alice", room: "r", metadata, ttl: "5" }, { from: `/projects/${project.id}/playground` });
    expect(page.status).toBe(400);
    const raw = /<textarea[^>]*name="metadata"[^>]*>([\s\S]*?)<\/textarea>/.exec(page.html)?.[1];
    expect(raw).toBeDefined();
    // What a browser puts in the field: one newline right after the tag is dropped, entities decoded.
    const shown = raw!.replace(/^\n/, "").replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&quot;/g, '"').replace(/&amp;/g, "&");
    expect(shown).toBe(metadata);
  });

  it("shows a new key's secret once: on the page after creating it, never again", async () => {
    const { user, project } = await createTenant();
    const client = DashboardClient.signedIn(user.token);
    const created = await client.post(`/projects/${project.id}/keys`, { name: "backend", scopes: ["tokens:write", "usage:read"] }, { from: `/projects/${project.id}/keys` });
    expect(created.status).toBe(303);
    const first = await client.get(created.location!);
    const secret = /id="secret-value"[^>]*>(pulse_[A-Za-z0-9_]+)</.exec(first.html)?.[1];
    expect(secret).toBeTruthy();
    // The secret works against the API, with the scopes chosen in the form.
    const self = await call("GET", "/v1/api-key", { token: secret });
    expect(self.status, self.text).toBe(200);
    const again = await client.get(created.location!);
    expect(again.html).not.toContain(secret!);
    // The flash cookie holding it is encrypted, so it never travels in the clear either.
    expect(created.headers.getSetCookie().join(";")).not.toContain(secret!);
  });

  it("draws usage as SVG with axis labels, a tooltip per bucket and the included quota", async () => {
    const { user, project, key } = await createTenant();
    for (let i = 0; i < 3; i++) {
      const res = await call("POST", "/v1/tokens", { token: key.secret, body: { identity: `u${i}`, room: "r" } });
      expect(res.status).toBe(201);
    }
    const client = DashboardClient.signedIn(user.token);
    await expect
      .poll(async () => /data-meter="tokens_issued">(\d+)</.exec((await client.get(`/projects/${project.id}/usage`)).html)?.[1], { timeout: 10_000 })
      .toBe("3");
    const page = await client.get(`/projects/${project.id}/usage?range=24h&granularity=hour`);
    const chart = /<svg[^>]*id="chart-tokens_issued"[\s\S]*?<\/svg>/.exec(page.html)?.[0] ?? "";
    expect(chart).toContain("hour (UTC)");
    expect(chart).toMatch(/<title>[^<]*: 3 tokens \(running total 3\)<\/title>/);
    expect(page.html).toContain("3 of 100,000 tokens included per month");
  });

  it("deletes a project whose name holds line breaks by the name as a text input lets one type it", async () => {
    const { user, org } = await createTenant();
    const project = await createProject(user, org.id, "line\nbreak\r\nname");
    const client = DashboardClient.signedIn(user.token);
    const page = await client.get(`/projects/${project.id}`);
    // Browsers strip CR and LF from an <input type=text>: the page asks for the name without them.
    expect(page.html).toContain('data-confirm-text="linebreakname"');
    const mistyped = await client.post(`/projects/${project.id}/delete`, { confirm: "line break name" }, { from: `/projects/${project.id}` });
    expect(mistyped.status).toBe(400);
    const typed = await client.post(`/projects/${project.id}/delete`, { confirm: "linebreakname" }, { from: `/projects/${project.id}` });
    expect(typed.status, typed.html.slice(0, 300)).toBe(303);
    expect((await call("GET", `/v1/projects/${project.id}`, { token: user.token })).status).toBe(404);
  });
});
