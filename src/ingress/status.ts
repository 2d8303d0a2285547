/** LiveKit's ingress endpoint states (`IngressState.Status`), by protobuf number. */
export const INGRESS_STATUSES = [
  "ENDPOINT_INACTIVE",
  "ENDPOINT_BUFFERING",
  "ENDPOINT_PUBLISHING",
  "ENDPOINT_ERROR",
  "ENDPOINT_COMPLETE",
] as const;
export type IngressStatus = (typeof INGRESS_STATUSES)[number];

/** protojson sends enum names and omits the default (0 = ENDPOINT_INACTIVE); numbers are accepted too. */
export function parseIngressStatus(value: unknown): IngressStatus {
  if (typeof value === "number") return INGRESS_STATUSES[value] ?? "ENDPOINT_INACTIVE";
  if (typeof value === "string" && (INGRESS_STATUSES as readonly string[]).includes(value)) return value as IngressStatus;
  return "ENDPOINT_INACTIVE";
}
