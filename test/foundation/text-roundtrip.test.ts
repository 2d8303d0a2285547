import { describe, expect, it } from "vitest";
import { call } from "../support/api";
import { createTenant, createUser } from "../support/factories";

/** Names users really type, and names attackers type: all stored and returned byte for byte. */
const NAMES = [
  `O'Brien "Quotes" & Sons`,
  "<script>alert('xss')</script>",
  "Robert'); DROP TABLE organizations;--",
  "1 OR 1=1; SELECT * FROM users WHERE ''=''",
  '{"$where": "this.secret"}',
  "$where",
  "🎥 Stream 🚀 Team 👩🏽‍💻",
  "Ünïcödé — 日本語のチーム — العربية — עברית",
  "ｐｒｏｊ＿look-alike：room",
  "  leading and trailing spaces  ",
  "line\nbreak\ttab",
  "back\\slash %s %d ${x} {{7*7}}",
];

describe("user text", () => {
  it.each(NAMES)("is stored and returned byte for byte: %s", async (name) => {
    const { user, org, project } = await createTenant();
    const renamedOrg = await call("PATCH", `/v1/orgs/${org.id}`, { token: user.token, body: { name } });
    expect(renamedOrg.status).toBe(200);
    expect(renamedOrg.body.name).toBe(name);
    expect((await call("GET", `/v1/orgs/${org.id}`, { token: user.token })).body.name).toBe(name);

    const createdProject = await call("POST", `/v1/orgs/${org.id}/projects`, { token: user.token, body: { name } });
    expect(createdProject.body.name).toBe(name);
    const listed = await call("GET", `/v1/orgs/${org.id}/projects`, { token: user.token });
    expect(listed.body.data.map((p: { name: string }) => p.name)).toContain(name);

    const key = await call("POST", `/v1/projects/${project.id}/keys`, { token: user.token, body: { name } });
    expect(key.body.name).toBe(name);
    const keys = await call("GET", `/v1/projects/${project.id}/keys`, { token: user.token });
    expect(keys.body.data[0].name).toBe(name);

    // JSON responses escape on output, so markup never arrives as live HTML.
    expect(renamedOrg.headers.get("Content-Type")).toMatch(/^application\/json/);
  });

  it("keeps a user's display name exactly as typed", async () => {
    const name = NAMES[1]! + NAMES[6]!;
    const user = await createUser({ name });
    expect((await call("GET", "/v1/me", { token: user.token })).body.user.name).toBe(name);
  });
});
