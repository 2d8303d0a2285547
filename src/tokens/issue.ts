import type { Context } from "hono";
import type { AppEnv } from "../env";
import { toIso } from "../lib/clock";
import { countTokenIssued, flushTokenUsage } from "./metering";
import { mintParticipantToken, type TokenRequest } from "./mint";

/** Mints a participant token for `projectId`, meters it, and returns the contract's response body. */
export async function issueToken(c: Context<AppEnv>, project: { projectId: string; orgId: string }, request: TokenRequest) {
  const minted = await mintParticipantToken(c.var.config.livekit, project.projectId, request);
  countTokenIssued(project.projectId, project.orgId, { room: minted.room, identity: minted.identity });
  c.executionCtx.waitUntil(flushTokenUsage(c.var.db, c.var.logger));
  return { token: minted.token, url: minted.url, room: minted.room, identity: minted.identity, expires_at: toIso(minted.expiresAt) };
}
