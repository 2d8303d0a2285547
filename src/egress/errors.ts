/**
 * What a tenant learns when an egress fails. LiveKit's error text names what its workers tried to
 * reach inside the platform network (`dial tcp 10.0.0.5:6379: connect: connection refused`,
 * `rtmp: i/o timeout`), so showing it turns every egress into a port scanner: try a host and port,
 * read whether it answered. Records, webhooks (both formats) and Twirp answers therefore carry one
 * of a small fixed set of texts, chosen by LiveKit's status; the raw text goes to the operator log
 * only (and stays in the stored LiveKit event).
 */
import type { Logger } from "../lib/logger";
import { isJsonObject, protoString } from "../lib/protojson";
import { parseEgressStatus } from "./status";

const BY_STATUS: Record<string, string> = {
  EGRESS_FAILED: "egress failed",
  EGRESS_ABORTED: "egress aborted",
  EGRESS_LIMIT_REACHED: "egress limit reached",
};
/** An error on an egress that is still running or completed: one of its outputs failed. */
const OUTPUT_FAILED = "egress output failed";
export const STREAM_FAILED = "stream failed";

/** The text a tenant may see for LiveKit's `raw` error on an egress in `status`; null when there is none. */
export function publicEgressError(raw: unknown, status: unknown): string | null {
  if (typeof raw !== "string" || raw === "") return null;
  return BY_STATUS[parseEgressStatus(status)] ?? OUTPUT_FAILED;
}

type Json = Record<string, unknown>;

function withPublicStreamErrors(items: unknown): unknown {
  if (!Array.isArray(items)) return items;
  return items.map((s) => (isJsonObject(s) && typeof s.error === "string" && s.error !== "" ? { ...s, error: STREAM_FAILED } : s));
}

/**
 * A protojson EgressInfo (from LiveKit's webhook) with every free-text error replaced: `error`,
 * `details`, and each stream result's `error` (the legacy `stream.info` too). Logs what it
 * replaced, for the operator.
 */
export function withPublicEgressErrors(info: Json, logger: Logger): Json {
  const raw = { error: protoString(info, "error"), details: protoString(info, "details") };
  const streamErrors = [...(Array.isArray(info.streamResults) ? info.streamResults : []), ...(isJsonObject(info.stream) && Array.isArray(info.stream.info) ? info.stream.info : [])]
    .map((s) => (isJsonObject(s) && typeof s.error === "string" ? s.error : ""))
    .filter((e) => e !== "");
  if (!raw.error && !raw.details && streamErrors.length === 0) return info;
  logger.warn("egress_error", { egress_id: protoString(info, "egressId"), status: parseEgressStatus(info.status), error: raw.error, details: raw.details, stream_errors: streamErrors });
  const next: Json = { ...info };
  if (raw.error) next.error = publicEgressError(raw.error, info.status);
  if (raw.details) delete next.details;
  if ("streamResults" in info) next.streamResults = withPublicStreamErrors(info.streamResults);
  if (isJsonObject(info.stream)) next.stream = { ...info.stream, info: withPublicStreamErrors(info.stream.info) };
  return next;
}
