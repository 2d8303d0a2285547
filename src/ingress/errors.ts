/**
 * What a tenant learns when an ingress fails. LiveKit's ingress workers pull a URL ingress from
 * inside the platform network, and their error text names what they tried to reach (`dial tcp
 * 10.0.0.5:6379: connect: connection refused`): shown to the tenant, it would tell what answers
 * there, as egress errors would (egress/errors.ts). Destinations are checked before LiveKit hears
 * of them, but a name can resolve elsewhere by the time the worker pulls. So records, webhooks
 * (both formats) and Twirp answers carry a fixed text by LiveKit's state; the raw text goes to the
 * operator log only (and stays in the stored LiveKit event).
 */
import type { Logger } from "../lib/logger";
import { isJsonObject, protoString } from "../lib/protojson";
import { parseIngressStatus } from "./status";

/** The ingress stopped on an error (`ENDPOINT_ERROR`). */
const INGRESS_FAILED = "ingress failed";
/** An error reported while the ingress is in any other state. */
const INGRESS_INPUT_ERROR = "ingress input error";

/** The text a tenant may see for LiveKit's `raw` error on an ingress in `status`; null when there is none. */
export function publicIngressError(raw: unknown, status: unknown): string | null {
  if (typeof raw !== "string" || raw === "") return null;
  return parseIngressStatus(status) === "ENDPOINT_ERROR" ? INGRESS_FAILED : INGRESS_INPUT_ERROR;
}

type Json = Record<string, unknown>;
/** A protojson IngressInfo (from LiveKit's webhook) with `state.error` replaced; logs what it replaced, for the operator. */
export function withPublicIngressErrors(info: Json, logger: Logger): Json {
  const state = isJsonObject(info.state) ? info.state : null;
  const raw = state ? protoString(state, "error") : undefined;
  if (!state || !raw) return info;
  logger.warn("ingress_error", { ingress_id: protoString(info, "ingressId"), status: parseIngressStatus(state.status), error: raw });
  return { ...info, state: { ...state, error: publicIngressError(raw, state.status) } };
}
