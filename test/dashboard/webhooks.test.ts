import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { call } from "../support/api";
import { DashboardClient, hasForm } from "../support/dashboard";
import { createTenant } from "../support/factories";
import { joinOrg } from "../support/team";
import { createEndpoint, fakeReceiver, messageRow, pendingMessage, receiverHost } from "../support/webhook-receiver";

afterEach(() => {
  vi.restoreAllMocks();
});

const MINUTE = 60_000;
/** `datetime-local` as the form sends it: UTC, to the minute. */
const localInput = (ms: number) => new Date(ms).toISOString().slice(0, 16);

async function failedAt(projectId: string, endpointId: string, createdAt: number) {
  const row = await pendingMessage(projectId, endpointId);
  await env.DB.prepare("UPDATE webhook_messages SET status = 'failed', attempts = 9, next_attempt_at = NULL, created_at = ? WHERE id = ?").bind(createdAt, row.id).run();
  return row.id;
}

describe("webhook endpoints in the dashboard", () => {
  it("adds an endpoint for some rooms, one per line and kept as typed, changes them and sets it back to every room", async () => {
    const { user, project } = await createTenant();
    const client = DashboardClient.signedIn(user.token);
    const list = `/projects/${project.id}/webhooks`;
    const rooms = ["support-*", "  standup ", "café ☕ <b>"];
    const created = await client.post(list, { url: `https://${receiverHost()}/hook`, rooms: `${rooms.join("\r\n")}\r\n\r\n` }, { from: list });
    expect(created.status, created.html).toBe(303);
    const page = created.location!;
    const endpointId = page.split("/").pop()!;
    const api = () => call("GET", `/v1/projects/${project.id}/webhooks/${endpointId}`, { token: user.token });
    expect((await api()).body.rooms).toEqual(rooms);
    const shown = (await client.get(page)).html;
    expect(shown).toContain("café ☕ &lt;b&gt;");
    expect(shown).not.toContain("café ☕ <b>");

    const settings = { url: `https://${receiverHost()}/hook`, enabled: "true" };
    expect((await client.post(`${page}/update`, { ...settings, rooms: "lobby" }, { from: page })).status).toBe(303);
    expect((await api()).body.rooms).toEqual(["lobby"]);
    expect((await client.post(`${page}/update`, { ...settings, rooms: "" }, { from: page })).status).toBe(303);
    expect((await api()).body.rooms).toBeNull();
    expect((await client.get(page)).html).toContain("every room");
  });

  it("shows a room list the API would refuse beside the field and adds nothing", async () => {
    const { user, project } = await createTenant();
    const client = DashboardClient.signedIn(user.token);
    const list = `/projects/${project.id}/webhooks`;
    for (const rooms of [Array.from({ length: 21 }, (_, i) => `room-${i}`).join("\n"), "same\nsame", "x".repeat(129)]) {
      const res = await client.post(list, { url: `https://${receiverHost()}/hook`, rooms }, { from: list });
      expect(res.status, rooms.slice(0, 20)).toBe(400);
      expect(res.html).toContain('id="f-rooms-error"');
    }
    expect((await call("GET", `/v1/projects/${project.id}/webhooks`, { token: user.token })).body.data).toEqual([]);
  });

  it("recovers the failed deliveries since the time an admin picks, and only those", async () => {
    const { user, project } = await createTenant();
    const host = receiverHost();
    fakeReceiver(host, [200]);
    const endpoint = await createEndpoint(user.token, project.id, { url: `https://${host}/hook` });
    const now = Date.now();
    const old = await failedAt(project.id, endpoint.id, now - 120 * MINUTE);
    const recent = await failedAt(project.id, endpoint.id, now - 20 * MINUTE);
    const client = DashboardClient.signedIn(user.token);
    const page = `/projects/${project.id}/webhooks/${endpoint.id}`;
    expect(hasForm((await client.get(page)).html, `${page}/recover`)).toBe(true);

    const res = await client.post(`${page}/recover`, { since: localInput(now - 60 * MINUTE) }, { from: page });
    expect(res.status).toBe(303);
    expect((await client.get(page)).html).toContain("1 failed message since");
    await vi.waitFor(async () => expect((await messageRow(recent)).status).toBe("delivered"), { timeout: 20_000, interval: 150 });
    expect((await messageRow(old)).status).toBe("failed");
  });

  it("shows a future or missing time beside the field and recovers nothing", async () => {
    const { user, project } = await createTenant();
    const endpoint = await createEndpoint(user.token, project.id, { url: `https://${receiverHost()}/hook` });
    const failed = await failedAt(project.id, endpoint.id, Date.now() - 10 * MINUTE);
    const client = DashboardClient.signedIn(user.token);
    const page = `/projects/${project.id}/webhooks/${endpoint.id}`;
    for (const since of [localInput(Date.now() + 3600_000), ""]) {
      const res = await client.post(`${page}/recover`, { since }, { from: page });
      expect(res.status, since).toBe(400);
      expect(res.html).toContain('id="f-since-error"');
    }
    expect((await messageRow(failed)).status).toBe("failed");
  });

  it("shows a viewer the endpoint without recover, test or delete forms and refuses the viewer's forged POSTs with 403", async () => {
    const { user, org, project } = await createTenant();
    const endpoint = await createEndpoint(user.token, project.id, { url: `https://${receiverHost()}/secret-path/hook` });
    const failed = await failedAt(project.id, endpoint.id, Date.now() - 10 * MINUTE);
    const viewer = DashboardClient.signedIn((await joinOrg(user, org.id, "viewer")).token);
    const page = `/projects/${project.id}/webhooks/${endpoint.id}`;
    const html = (await viewer.get(page)).html;
    expect(html).not.toContain("secret-path");
    for (const action of ["recover", "test", "rotate", "delete", "update"]) expect(hasForm(html, `${page}/${action}`), action).toBe(false);
    for (const action of ["recover", "test", "delete"]) {
      expect((await viewer.post(`${page}/${action}`, { since: localInput(Date.now() - 3600_000) }, { from: page })).status, action).toBe(403);
    }
    expect((await messageRow(failed)).status).toBe("failed");
  });
});
