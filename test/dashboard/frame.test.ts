import { describe, expect, it } from "vitest";
import { call, expectEnvelope } from "../support/api";
import { DashboardClient } from "../support/dashboard";
import { createTenant } from "../support/factories";

describe("the dashboard frame", () => {
  it("sends a signed-out visitor of / to the login page", async () => {
    const res = await new DashboardClient().get("/");
    expect(res.status).toBe(303);
    expect(res.location).toBe("/login");
  });

  it("sends a signed-out visitor of a signed-in page to login and back", async () => {
    const { project } = await createTenant();
    const res = await new DashboardClient().get(`/projects/${project.id}/keys`);
    expect(res.status).toBe(303);
    expect(res.location).toBe(`/login?next=${encodeURIComponent(`/projects/${project.id}/keys`)}`);
  });

  it("serves every page with a nonce-based CSP, no unsafe-inline, and no framing", async () => {
    const { user, project } = await createTenant();
    const client = DashboardClient.signedIn(user.token);
    for (const path of ["/login", `/projects/${project.id}/keys`]) {
      const res = path === "/login" ? await new DashboardClient().get(path) : await client.get(path);
      expect(res.status).toBe(200);
      const csp = res.headers.get("Content-Security-Policy")!;
      const nonce = /script-src 'nonce-([^']+)'/.exec(csp)?.[1];
      expect(nonce).toBeTruthy();
      expect(csp).not.toContain("unsafe-inline");
      expect(csp).toContain("frame-ancestors 'none'");
      expect(res.headers.get("X-Frame-Options")).toBe("DENY");
      // The one script is same-origin and carries this response's nonce; no inline script or style attribute.
      expect(res.html).toContain(`<script src="/assets/app.js" nonce="${nonce}"`);
      expect(res.html).not.toMatch(/<script(?![^>]*src=)/);
      expect(res.html).not.toMatch(/\sstyle="/);
      expect(res.html).not.toMatch(/https?:\/\/(?!127\.0\.0\.1|pulse\.test)[a-z0-9.-]+\/[^"]*\.(js|css|woff2?)/i);
    }
  });

  it("serves its own stylesheet and script", async () => {
    const css = await new DashboardClient().get("/assets/app.css");
    expect(css.status).toBe(200);
    expect(css.headers.get("Content-Type")).toContain("text/css");
    const js = await new DashboardClient().get("/assets/app.js");
    expect(js.headers.get("Content-Type")).toContain("javascript");
    expect(js.html).toContain("data-copy");
  });

  it("answers a browser's unknown page with an HTML 404 and leaves the API's envelope alone", async () => {
    const page = await new DashboardClient().get("/no-such-page");
    expect(page.status).toBe(404);
    expect(page.headers.get("Content-Type")).toContain("text/html");
    expectEnvelope(await call("GET", "/v1/nope"), 404, "not_found");
    expectEnvelope(await call("GET", "/nope"), 404, "not_found");
    const health = await call("GET", "/health");
    expect(health.status).toBe(200);
    expect(health.headers.get("Content-Security-Policy")).toBe("default-src 'none'; frame-ancestors 'none'");
  });

  it("keeps refusing form bodies on the JSON API", async () => {
    const { user } = await createTenant();
    const res = await call("POST", "/v1/orgs", { token: user.token, raw: "name=x", headers: { "Content-Type": "application/x-www-form-urlencoded" } });
    expectEnvelope(res, 415, "unsupported_media_type");
  });
});
