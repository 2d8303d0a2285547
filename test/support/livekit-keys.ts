/** LiveKit keys for tests, made through the public API like every other factory. */
import { call } from "./api";
import type { TestUser } from "./factories";

export interface TestLivekitKey {
  id: string;
  api_key: string;
  api_secret: string;
  created_at: string;
}

export async function createLivekitKey(user: TestUser, projectId: string, body?: { name?: string }): Promise<TestLivekitKey> {
  const res = await call("POST", `/v1/projects/${projectId}/livekit-keys`, { token: user.token, body: body ?? {} });
  if (res.status !== 201) throw new Error(`create LiveKit key failed: ${res.status} ${res.text}`);
  return res.body;
}
