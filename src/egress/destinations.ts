/**
 * Where the shared LiveKit deployment may be sent on an egress's behalf. Web egress pages, track
 * websockets, stream (RTMP/SRT) destinations and S3 endpoints are all fetched by LiveKit from
 * inside the platform network, so a private address there is SSRF: the egress browser would render
 * `169.254.169.254` or an internal dashboard into the tenant's bucket. This lists every URL of a
 * start request; `src/lib/private-address.ts` (the check webhooks and ingress use too) judges them.
 */
import type { Destination } from "../lib/private-address";
import type { StartEgressBody } from "./schemas";

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
    ...(body.image_outputs ?? []).flatMap((o, i) => s3Endpoint(`image_outputs.${i}`, o)),
    ...(body.stream_outputs ?? []).flatMap((s, i) => s.urls.map((url, j) => ({ path: `stream_outputs.${i}.urls.${j}`, url }))),
  ];
}
