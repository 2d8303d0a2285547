/**
 * Who is calling the Twirp API: the Bearer JWT a LiveKit server SDK signs with a project's LiveKit
 * key (`iss` = api_key, HS256 with its secret). The issuer is looked up (cached per isolate), the
 * signature and times checked with LiveKit's own tolerance, and the project's rate limit applied,
 * which also refuses keys deleted since this isolate cached them. Pulse API keys, the deployment's
 * own key and anything else are `unauthenticated`.
 */
import type { Context } from "hono";
import { decodeJwt, jwtVerify } from "jose";
import { auditActor, type AuditActor } from "../audit/record";
import type { AppEnv } from "../env";
import { nowMs } from "../lib/clock";
import type { VideoGrant } from "../livekit/jwt";
import { forgetLivekitKey, lookupLivekitKey, resolveLivekitKey, type ResolvedLivekitKey } from "../livekit-keys/service";
import { enforceRateLimit } from "../middleware/rate-limit";
import { TwirpFailure } from "./errors";

/** LiveKit's server accepts this much clock skew. */
const CLOCK_TOLERANCE_SECONDS = 60;

export interface TwirpCaller {
  key: ResolvedLivekitKey;
  projectId: string;
  orgId: string;
  /** The token's `video` grant (LiveKit's camelCase names). */
  video: VideoGrant;
  audit: AuditActor;
}

const refused = (why: string) => new TwirpFailure("unauthenticated", why);
const encoder = new TextEncoder();

export async function authenticateTwirp(c: Context<AppEnv>): Promise<TwirpCaller> {
  const header = c.req.header("Authorization") ?? "";
  const token = /^Bearer\s+(\S+)$/i.exec(header.trim())?.[1];
  if (!token) throw refused("Send Authorization: Bearer <JWT signed with a LiveKit key of your project>.");
  if (token.startsWith("pulse_")) throw refused("Pulse API keys do not work here: sign a JWT with a LiveKit key (created at /v1/projects/{id}/livekit-keys).");

  let issuer: unknown;
  try {
    issuer = decodeJwt(token).iss;
  } catch {
    throw refused("The token is not a JWT.");
  }
  const { config, db } = c.var;
  // The deployment's own key reaches every tenant: it is never a tenant credential.
  if (typeof issuer !== "string" || issuer === "" || issuer === config.livekit.apiKey) throw refused("Unknown API key.");
  const resolved = await resolveLivekitKey({ db, config }, issuer);
  if (!resolved) throw refused("Unknown API key.");
  let key = resolved.key;

  let payload: Record<string, unknown>;
  try {
    ({ payload } = await jwtVerify(token, encoder.encode(key.secret), {
      algorithms: ["HS256"],
      issuer: key.apiKey,
      requiredClaims: ["exp"],
      clockTolerance: CLOCK_TOLERANCE_SECONDS,
      currentDate: new Date(nowMs()),
    }));
  } catch {
    throw refused("The token's signature or validity period is wrong.");
  }

  const caller = { kind: "api_key" as const, keyId: key.id, projectId: key.projectId, orgId: key.orgId, scopes: [] };
  c.set("caller", caller);
  c.set("orgId", key.orgId);
  c.set("projectId", key.projectId);

  const limiter = await enforceRateLimit(c, {
    policy: "project",
    key: `project:${key.projectId}`,
    limit: key.rateLimitPerMin ?? config.rateLimits.projectPerMinute,
    failMode: "open",
    credential: key.credential,
  });
  if (limiter === "unavailable" && resolved.fromCache) {
    // Without the limiter nobody vouches for the cached entry: ask D1.
    const fresh = await lookupLivekitKey({ db, config }, key.apiKey);
    if (!fresh) {
      forgetLivekitKey(key.apiKey);
      throw refused("Unknown API key.");
    }
    key = fresh;
  }
  const video = payload.video && typeof payload.video === "object" ? (payload.video as VideoGrant) : {};
  return { key, projectId: key.projectId, orgId: key.orgId, video, audit: auditActor(c) };
}
