/**
 * Announcing that keys are dead to the project's rate-limiter object, which every API-key request
 * consults (see auth/key-cache.ts). Called BEFORE the D1 write: if the announcement fails, the
 * operation fails and nothing changed; if it succeeds and the D1 write then fails, the key is dead
 * a little early, which errs on the safe side.
 */
import { forgetKey } from "../auth/key-cache";
import type { Deps } from "../deps";
import { ApiError } from "../lib/errors";
import { projectLimiter } from "../rate-limit/service";
import { errorMessage } from "../lib/logger";

type AnnounceDeps = Pick<Deps, "limiter" | "logger">;

function unavailable(deps: AnnounceDeps, error: unknown): never {
  deps.logger.error("revocation_announce_failed", { error_message: errorMessage(error) });
  throw new ApiError("service_unavailable", "Could not revoke right now; nothing was changed. Try again shortly.", {
    headers: { "Retry-After": "5" },
  });
}

/** These key secrets (by hash) are refused from now on, in every isolate. */
export async function announceRevokedKeys(deps: AnnounceDeps, projectId: string, keyHashes: string[]): Promise<void> {
  try {
    await projectLimiter({ RATE_LIMITER: deps.limiter }, projectId).revokeCredentials(keyHashes);
  } catch (error) {
    unavailable(deps, error);
  }
  for (const hash of keyHashes) forgetKey(hash);
}

/** Every key of these projects is refused from now on, in every isolate (the projects are being deleted). */
export async function announceRetiredProjects(deps: AnnounceDeps, projectIds: string[]): Promise<void> {
  try {
    await Promise.all(projectIds.map((id) => projectLimiter({ RATE_LIMITER: deps.limiter }, id).retire()));
  } catch (error) {
    unavailable(deps, error);
  }
}
