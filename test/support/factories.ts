/**
 * Test factories: each makes one real thing through the public API (so tests exercise the same
 * paths as users) and returns what later calls need.
 */
import { call } from "./api";
import { verificationToken } from "./mail";

let counter = 0;
const unique = () => `${Date.now().toString(36)}${(counter++).toString(36)}${Math.random().toString(36).slice(2, 6)}`;

export const PASSWORD = "correct horse battery staple";

export interface TestUser {
  id: string;
  email: string;
  token: string;
}

/**
 * Signs up and, unless `verified: false`, verifies the email the way a person does: the token from
 * the link in the dev mailbox, posted to `POST /v1/auth/verify-email`.
 */
export async function createUser(overrides: { email?: string; name?: string; ip?: string; verified?: boolean } = {}): Promise<TestUser> {
  const email = overrides.email ?? `user-${unique()}@example.com`;
  const ip = overrides.ip ?? `198.51.100.${counter % 250}`;
  const res = await call("POST", "/v1/auth/signup", { body: { email, password: PASSWORD, name: overrides.name ?? "Test User" }, ip });
  if (res.status !== 201) throw new Error(`signup failed: ${res.status} ${res.text}`);
  if (overrides.verified !== false) {
    const verified = await call("POST", "/v1/auth/verify-email", { body: { token: await verificationToken(email) }, ip });
    if (verified.status !== 200) throw new Error(`verify failed: ${verified.status} ${verified.text}`);
  }
  return { id: res.body.user.id, email, token: res.body.token };
}

export async function createOrg(user: TestUser, name = "Acme"): Promise<{ id: string; name: string }> {
  const res = await call("POST", "/v1/orgs", { token: user.token, body: { name } });
  if (res.status !== 201) throw new Error(`create org failed: ${res.status} ${res.text}`);
  return res.body;
}

export async function createProject(user: TestUser, orgId: string, name = "Main"): Promise<{ id: string; org_id: string; name: string }> {
  const res = await call("POST", `/v1/orgs/${orgId}/projects`, { token: user.token, body: { name } });
  if (res.status !== 201) throw new Error(`create project failed: ${res.status} ${res.text}`);
  return res.body;
}

export async function createApiKey(
  user: TestUser,
  projectId: string,
  body: { name?: string; scopes?: string[]; expires_at?: string } = {},
): Promise<{ id: string; secret: string; prefix: string; scopes: string[] }> {
  const res = await call("POST", `/v1/projects/${projectId}/keys`, { token: user.token, body: { name: "server", ...body } });
  if (res.status !== 201) throw new Error(`create key failed: ${res.status} ${res.text}`);
  return res.body;
}

/** A user with an org, a project and an API key: the usual starting point for API-key tests. */
export async function createTenant() {
  const user = await createUser();
  const org = await createOrg(user);
  const project = await createProject(user, org.id);
  const key = await createApiKey(user, project.id);
  return { user, org, project, key };
}
