/**
 * Announcing that keys are dead to the project's rate-limiter object, which every API-key request
 * consults (see key-cache.ts). Called BEFORE the D1 write: if the announcement fails, the request
 * fails and nothing changed; if it succeeds and the D1 write then fails, the key is dead a little
 * early, which errs on the safe side.
 */
import type { Context } from "hono";
import type { AppEnv } from "../env";
import { ApiError } from "../lib/errors";
import { projectLimiter } from "../rate-limit/service";
import { forgetKey } from "../auth/key-cache";

function unavailable(error: unknown, c: Context<AppEnv>): never {
  c.var.logger.error("revocation_announce_failed", { error_message: error instanceof Error ? error.message : String(error) });
  throw new ApiError("service_unavailable", "Could not revoke right now; nothing was changed. Try again shortly.", {
    headers: { "Retry-After": "5" },
  });
}

export async function announceRevokedKeys(c: Context<AppEnv>, projectId: string, keyHashes: string[]): Promise<void> {
  try {
    await projectLimiter(c.env, projectId).revokeCredentials(keyHashes);
  } catch (error) {
    unavailable(error, c);
  }
  for (const hash of keyHashes) forgetKey(hash);
}

export async function announceRetiredProjects(c: Context<AppEnv>, projectIds: string[]): Promise<void> {
  try {
    await Promise.all(projectIds.map((id) => projectLimiter(c.env, id).retire()));
  } catch (error) {
    unavailable(error, c);
  }
}
