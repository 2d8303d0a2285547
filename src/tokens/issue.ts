import type { Deps } from "../deps";
import { toIso } from "../lib/clock";
import { countTokenIssued, flushTokenUsage } from "./metering";
import { mintParticipantToken, type TokenRequest } from "./mint";

/** Mints a participant token for `projectId`, meters it, and returns the contract's response body. */
export async function issueToken(
  deps: Pick<Deps, "config" | "db" | "logger" | "background">,
  project: { projectId: string; orgId: string },
  request: TokenRequest,
) {
  const minted = await mintParticipantToken(deps.config.livekit, project.projectId, request);
  countTokenIssued(project.projectId, project.orgId);
  deps.background(flushTokenUsage(deps.db, deps.logger));
  return { token: minted.token, url: minted.url, room: minted.room, identity: minted.identity, expires_at: toIso(minted.expiresAt) };
}
