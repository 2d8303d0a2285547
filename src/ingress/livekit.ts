/**
 * The ingress calls Pulse makes to LiveKit (`livekit.Ingress`), with answers validated as LiveKit
 * sends them (snake_case, defaults included).
 */
import { z } from "zod";
import type { Config } from "../config";
import type { Logger } from "../lib/logger";
import { Int64 } from "../lib/protojson";
import { twirpCall } from "../livekit/twirp";


export const IngressInfoAnswer = z.object({
  ingress_id: z.string().min(1),
  name: z.string().nullish(),
  stream_key: z.string().nullish(),
  url: z.string().nullish(),
  room_name: z.string().nullish(),
  participant_identity: z.string().nullish(),
  state: z
    .object({
      status: z.union([z.string(), z.number()]).nullish(),
      error: z.string().nullish(),
      started_at: Int64.nullish(),
      ended_at: Int64.nullish(),
    })
    .nullish(),
});
export type IngressInfoAnswer = z.infer<typeof IngressInfoAnswer>;

export function createIngress(livekit: Config["livekit"], request: Record<string, unknown>, logger?: Logger): Promise<IngressInfoAnswer> {
  return twirpCall(livekit, "Ingress", "CreateIngress", request, IngressInfoAnswer, { logger });
}

export function deleteIngress(livekit: Config["livekit"], ingressId: string, logger?: Logger): Promise<IngressInfoAnswer> {
  return twirpCall(livekit, "Ingress", "DeleteIngress", { ingressId }, IngressInfoAnswer, { logger });
}
