/**
 * Where the shared LiveKit deployment may be sent on a tenant's behalf. Web egress pages, track
 * websockets, stream (RTMP/SRT) destinations, S3 endpoints and ingress pull URLs are all fetched
 * by LiveKit from inside the platform network, so a private address there is SSRF: the egress
 * browser would render `169.254.169.254` or an internal dashboard into the tenant's bucket. The
 * host is classified by the very function the webhooks use (`isPrivateHost`), so both stay in step.
 *
 * Private destinations are refused whenever Pulse runs in production; in development they are
 * allowed only with `WEBHOOK_ALLOW_PRIVATE_URLS` (a local LiveKit reaching local test servers).
 */
import type { Config } from "../config";
import { validationFailed, type ErrorDetail } from "../lib/errors";
import { isPrivateHost } from "../webhooks/url";
import type { StartEgressBody } from "./schemas";

export interface Destination {
  /** The request field, as validation errors name it (`stream_outputs.0.urls.1`). */
  path: string;
  url: string;
}

export function allowsPrivateDestinations(config: Config): boolean {
  return !config.isProduction && config.webhookAllowPrivateUrls;
}

/**
 * The host as a special-scheme (http) parser canonicalises it. For `rtmp:`, `srt:` and other
 * non-special schemes the URL parser keeps the host opaque, so `rtmp://0x7f.1/` or
 * `srt://%31%32%37.0.0.1/` would otherwise reach the check unnormalised while LiveKit's resolver
 * still reads them as 127.0.0.1. null when there is no usable host.
 */
function canonicalHost(raw: string): string | null {
  try {
    const { host } = new URL(raw);
    return host === "" ? null : new URL(`http://${host}/`).hostname;
  } catch {
    return null;
  }
}

/** null when LiveKit may connect to `raw`, else the reason (a sentence for the API error). */
export function destinationProblem(raw: string, allowPrivate: boolean): string | null {
  if (allowPrivate) return null;
  const host = canonicalHost(raw);
  if (host === null) return "Must name a valid host";
  return isPrivateHost(host) ? "Must not point at a local or private network address" : null;
}

/** Throws 400 validation_failed naming every refused field; call before anything reaches LiveKit. */
export function assertPublicDestinations(destinations: Destination[], allowPrivate: boolean): void {
  const details: ErrorDetail[] = [];
  for (const { path, url } of destinations) {
    const problem = destinationProblem(url, allowPrivate);
    if (problem) details.push({ path, message: problem });
  }
  const first = details[0];
  if (first) throw validationFailed(`Invalid request: ${first.path}: ${first.message}`, details);
}

type WithS3 = { s3?: { endpoint?: string } };

function s3Endpoint(prefix: string, output: WithS3 | undefined): Destination[] {
  const endpoint = output?.s3?.endpoint;
  return endpoint === undefined ? [] : [{ path: `${prefix}.s3.endpoint`, url: endpoint }];
}

/** Every URL in an egress start request that LiveKit will connect to. */
export function egressDestinations(body: StartEgressBody): Destination[] {
  if (body.type === "track") {
    return [
      ...(body.websocket_url === undefined ? [] : [{ path: "websocket_url", url: body.websocket_url }]),
      ...s3Endpoint("file", body.file),
    ];
  }
  return [
    ...(body.type === "web" ? [{ path: "url", url: body.url }] : []),
    ...(body.file_outputs ?? []).flatMap((f, i) => s3Endpoint(`file_outputs.${i}`, f)),
    ...(body.segment_outputs ?? []).flatMap((s, i) => s3Endpoint(`segment_outputs.${i}`, s)),
    ...(body.stream_outputs ?? []).flatMap((s, i) => s.urls.map((url, j) => ({ path: `stream_outputs.${i}.urls.${j}`, url }))),
  ];
}
