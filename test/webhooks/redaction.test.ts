/**
 * Webhook URLs often carry a secret (a token in the path or query) and receivers' answers can echo
 * one: members and viewers see the URL's origin only and no response bodies; admins and owners
 * (and API keys) see both whole.
 */
import { afterEach, describe, expect, it, vi } from "vitest";
import { call } from "../support/api";
import { createTenant } from "../support/factories";
import { joinOrg } from "../support/team";
import { consume, createEndpoint, fakeReceiver, pendingMessage, receiverHost } from "../support/webhook-receiver";

afterEach(() => {
  vi.restoreAllMocks();
});

describe("webhook URL redaction", () => {
  it("keeps a viewer or member from reading an endpoint's secret URL path or a receiver's answer, while admins see them", async () => {
    const { user, org, project, key } = await createTenant();
    const host = receiverHost();
    fakeReceiver(host, [{ status: 500, body: "error: token=leaked-by-receiver" }]);
    const secretUrl = `https://${host}/hooks/T0KEN-in-path?sig=abc123`;
    const endpoint = await createEndpoint(user.token, project.id, { url: secretUrl });
    const msg = await pendingMessage(project.id, endpoint.id);
    await consume(msg.id, 1);

    const base = `/v1/projects/${project.id}/webhooks`;
    for (const role of ["viewer", "member"] as const) {
      const reader = await joinOrg(user, org.id, role);
      const one = await call("GET", `${base}/${endpoint.id}`, { token: reader.token });
      expect(one.body.url).toBe(`https://${host}`);
      const list = await call("GET", base, { token: reader.token });
      expect(list.body.data[0].url).toBe(`https://${host}`);
      const log = await call("GET", `${base}/${endpoint.id}/deliveries`, { token: reader.token });
      expect(log.body.data[0].attempts[0]).toMatchObject({ status_code: 500, response_body: null });
      for (const text of [one.text, list.text, log.text]) {
        expect(text).not.toContain("T0KEN-in-path");
        expect(text).not.toContain("abc123");
        expect(text).not.toContain("leaked-by-receiver");
      }
    }

    const admin = await joinOrg(user, org.id, "admin");
    for (const token of [admin.token, user.token]) {
      expect((await call("GET", `${base}/${endpoint.id}`, { token })).body.url).toBe(secretUrl);
      const log = await call("GET", `${base}/${endpoint.id}/deliveries`, { token });
      expect(log.body.data[0].attempts[0].response_body).toBe("error: token=leaked-by-receiver");
    }
    expect((await call("GET", `/v1/webhooks/${endpoint.id}`, { token: key.secret })).body.url).toBe(secretUrl);
  });
});
