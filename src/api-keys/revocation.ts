/**
 * Announcing that keys are dead to the project's rate-limiter object, which every API-key request
 * consults (see key-cache.ts). Called BEFORE the D1 write: if the announcement fails, the request
 * fails and nothing changed; if it succeeds and the D1 write then fails, the key is dead a little
 * early, which errs on the safe side.
 */
import type { Deps } from "../deps";
import { ApiError } from "../lib/errors";
import { projectLimiter } from "../rate-limit/service";
import { forgetKey } from "./key-cache";

/** What announcing needs: the limiter namespace and somewhere to log a failure. */
export type LimiterDeps = Pick<Deps, "limiter" | "logger">;

function unavailable(error: unknown, deps: LimiterDeps): never {
  deps.logger.error("revocation_announce_failed", { error_message: error instanceof Error ? error.message : String(error) });
  throw new ApiError("service_unavailable", "Could not revoke right now; nothing was changed. Try again shortly.", {
    headers: { "Retry-After": "5" },
  });
}

export async function announceRevokedKeys(deps: LimiterDeps, projectId: string, keyHashes: string[]): Promise<void> {
  try {
    await projectLimiter({ RATE_LIMITER: deps.limiter }, projectId).revokeCredentials(keyHashes);
  } catch (error) {
    unavailable(error, deps);
  }
  for (const hash of keyHashes) forgetKey(hash);
}

export async function announceRetiredProjects(deps: LimiterDeps, projectIds: string[]): Promise<void> {
  try {
    await Promise.all(projectIds.map((id) => projectLimiter({ RATE_LIMITER: deps.limiter }, id).retire()));
  } catch (error) {
    unavailable(error, deps);
  }
}
