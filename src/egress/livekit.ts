/**
 * The egress calls Pulse makes to LiveKit (`livekit.Egress`), with the answers validated as
 * LiveKit sends them: snake_case, defaults included, int64 times as strings in nanoseconds.
 */
import { z } from "zod";
import type { Config } from "../config";
import type { Logger } from "../lib/logger";
import { Int64 } from "../lib/protojson";
import { twirpCall } from "../livekit/twirp";


export const EgressInfoAnswer = z.object({
  egress_id: z.string().min(1),
  room_name: z.string().nullish(),
  status: z.union([z.string(), z.number()]).nullish(),
  started_at: Int64.nullish(),
  ended_at: Int64.nullish(),
  error: z.string().nullish(),
  // What the egress produced so far (`results.ts` reads and redacts them).
  file_results: z.array(z.record(z.string(), z.unknown())).nullish(),
  stream_results: z.array(z.record(z.string(), z.unknown())).nullish(),
  segment_results: z.array(z.record(z.string(), z.unknown())).nullish(),
  image_results: z.array(z.record(z.string(), z.unknown())).nullish(),
});
export type EgressInfoAnswer = z.infer<typeof EgressInfoAnswer>;

export type StartEgressMethod =
  | "StartRoomCompositeEgress"
  | "StartTrackEgress"
  | "StartWebEgress"
  | "StartParticipantEgress"
  | "StartTrackCompositeEgress";

/** Any `livekit.Egress` call answered with an EgressInfo. */
export function egressTwirp(
  livekit: Config["livekit"],
  method: StartEgressMethod | "StopEgress" | "UpdateLayout" | "UpdateStream",
  request: Record<string, unknown>,
  logger?: Logger,
): Promise<EgressInfoAnswer> {
  return twirpCall(livekit, "Egress", method, request, EgressInfoAnswer, { logger });
}

export function startEgress(livekit: Config["livekit"], method: StartEgressMethod, request: Record<string, unknown>, logger?: Logger): Promise<EgressInfoAnswer> {
  return egressTwirp(livekit, method, request, logger);
}

export function stopEgress(livekit: Config["livekit"], egressId: string, logger?: Logger): Promise<EgressInfoAnswer> {
  return egressTwirp(livekit, "StopEgress", { egressId }, logger);
}
