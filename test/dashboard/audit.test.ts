import { describe, expect, it } from "vitest";
import { DashboardClient } from "../support/dashboard";
import { createProject, createTenant } from "../support/factories";

describe("the dashboard's audit log", () => {
  it("filters and exports by the filters given, and refuses filters that do not parse instead of showing or exporting everything", async () => {
    const { user, org } = await createTenant();
    await createProject(user, org.id, "Second project");
    const client = DashboardClient.signedIn(user.token);
    const base = `/orgs/${org.id}/audit`;

    const filtered = await client.get(`${base}?action=project.created`);
    expect(filtered.status).toBe(200);
    expect(filtered.html).toContain("project.created");
    expect(filtered.html).not.toContain("org.created");
    const csv = await client.get(`${base}/export?format=csv&action=project.created`);
    expect(csv.status).toBe(200);
    expect(csv.html).toContain("project.created");
    expect(csv.html).not.toContain("org.created");

    for (const bad of ["since=2026-02-30", "since=2026-11-28T10:00", "until=yesterday"]) {
      const page = await client.get(`${base}?${bad}`);
      expect(page.status, bad).toBe(400);
      expect(page.html).toContain("Correct the filters above");
      expect(page.html, bad).not.toContain("<code>org.created</code>");
      const exported = await client.get(`${base}/export?format=csv&${bad}`);
      expect(exported.status, bad).toBe(400);
      expect(exported.html).toContain("Nothing was exported");
      expect(exported.html).not.toContain("org.created");
    }
  });
});
