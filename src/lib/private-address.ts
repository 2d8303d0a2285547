/**
 * The one private-address check: webhooks, egress and ingress all refuse destinations on this
 * machine or a private network (SSRF), with the same rules. A host is private when it is
 * `localhost`, has an internal-only suffix, is a single label, or is an IP literal in loopback,
 * private, link-local, CGNAT, ULA, multicast, documentation or reserved ranges, including IPv4
 * hidden in IPv6 (mapped, compatible, translated, NAT64, 6to4) and Teredo.
 *
 * Hosts arrive as the WHATWG URL parser canonicalises them (`0x7f.1`, `2130706433` and
 * `[::ffff:127.0.0.1]` become plain dotted quads and hex IPv6); `canonicalHost` does the same for
 * schemes the parser leaves opaque (`rtmp:`, `srt:`). A public-looking name can still resolve to a
 * private address (`169.254.169.254.nip.io`), so names are resolved (`dns.ts`, A and AAAA) and
 * every address they resolve to is judged by the same rules; a name that does not resolve, or a
 * resolver that fails, refuses the destination (fail closed).
 */
import { DnsFailure, resolveAddresses } from "./dns";
import { validationFailed, type ErrorDetail } from "./errors";
import { ipv4Octets, ipv6Groups } from "./ip";

const INTERNAL_SUFFIXES = [".localhost", ".local", ".internal", ".home.arpa", ".localdomain"];

function isPrivateIpv4([a, b, c]: number[]): boolean {
  return (
    a === 0 || // "this network"
    a === 10 ||
    a === 127 ||
    (a === 100 && b! >= 64 && b! <= 127) || // CGNAT 100.64/10
    (a === 169 && b === 254) || // link-local (cloud metadata lives here)
    (a === 172 && b! >= 16 && b! <= 31) ||
    (a === 192 && b === 168) ||
    (a === 192 && b === 0 && c === 0) || // IETF protocol assignments
    (a === 192 && b === 0 && c === 2) || // TEST-NET-1
    (a === 198 && b === 51 && c === 100) || // TEST-NET-2
    (a === 203 && b === 0 && c === 113) || // TEST-NET-3
    (a === 192 && b === 88 && c === 99) || // 6to4 relay anycast
    (a === 198 && (b === 18 || b === 19)) || // benchmarking
    a! >= 224 // multicast, reserved, broadcast
  );
}

function isPrivateIpv6(g: number[]): boolean {
  const embeddedV4 = [g[6]! >> 8, g[6]! & 0xff, g[7]! >> 8, g[7]! & 0xff];
  const zeroPrefix = (n: number) => g.slice(0, n).every((x) => x === 0);
  if (zeroPrefix(8)) return true; // ::
  if (zeroPrefix(7) && g[7] === 1) return true; // ::1
  if (zeroPrefix(5) && g[5] === 0xffff) return isPrivateIpv4(embeddedV4); // IPv4-mapped
  if (zeroPrefix(6)) return isPrivateIpv4(embeddedV4); // IPv4-compatible (deprecated)
  if (zeroPrefix(4) && g[4] === 0xffff && g[5] === 0) return isPrivateIpv4(embeddedV4); // IPv4-translated ::ffff:0:a.b.c.d
  if (g[0] === 0x64 && g[1] === 0xff9b) return isPrivateIpv4(embeddedV4); // NAT64
  const first = g[0]!;
  // 6to4 (2002::/16) carries an IPv4 address in groups 1-2 that a relay would reach.
  if (first === 0x2002) return isPrivateIpv4([g[1]! >> 8, g[1]! & 0xff, g[2]! >> 8, g[2]! & 0xff]);
  return (
    (first === 0x2001 && g[1] === 0x0000) || // Teredo 2001::/32 (tunnels to arbitrary IPv4)
    (first === 0x0100 && g[1] === 0 && g[2] === 0 && g[3] === 0) || // discard-only 100::/64
    (first & 0xfe00) === 0xfc00 || // ULA fc00::/7
    (first & 0xffc0) === 0xfe80 || // link-local fe80::/10
    (first & 0xffc0) === 0xfec0 || // site-local (deprecated)
    (first & 0xff00) === 0xff00 || // multicast
    (first === 0x2001 && g[1] === 0x0db8) // documentation
  );
}

/** True when `hostname` (as `URL.hostname` gives it) names a local or private destination. */
export function isPrivateHost(hostname: string): boolean {
  // Any number of trailing dots still names the same host (`localhost..`).
  const host = hostname.toLowerCase().replace(/\.+$/, "");
  if (host === "" || host === "localhost" || INTERNAL_SUFFIXES.some((s) => host.endsWith(s))) return true;
  if (host.startsWith("[") && host.endsWith("]")) {
    const groups = ipv6Groups(host.slice(1, -1).split("%")[0]!);
    return groups === null || isPrivateIpv6(groups);
  }
  const v4 = ipv4Octets(host);
  if (v4) return isPrivateIpv4(v4);
  // A single-label name only resolves on a local network.
  return !host.includes(".");
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

/** Private destinations are refused whenever Pulse runs in production; in development only with `WEBHOOK_ALLOW_PRIVATE_URLS`. */
export function allowsPrivateDestinations(config: { isProduction: boolean; webhookAllowPrivateUrls: boolean }): boolean {
  return !config.isProduction && config.webhookAllowPrivateUrls;
}

export interface Destination {
  /** The request field, as validation errors name it (`stream_outputs.0.urls.1`). */
  path: string;
  url: string;
}

/** How destinations are judged: `allowPrivate` skips every check (development only). */
export interface DestinationPolicy {
  allowPrivate: boolean;
  /** The DNS-over-HTTPS JSON resolver names are resolved with. */
  dohUrl: string;
}

export function destinationPolicy(config: { isProduction: boolean; webhookAllowPrivateUrls: boolean; dohUrl: string }): DestinationPolicy {
  return { allowPrivate: allowsPrivateDestinations(config), dohUrl: config.dohUrl };
}

const PRIVATE = "Must not point at a local or private network address";

/** null when every address `host` resolves to is public, else the reason (naming the host). */
async function resolvedProblem(dohUrl: string, host: string): Promise<string | null> {
  try {
    const { ipv4, ipv6 } = await resolveAddresses(dohUrl, host);
    const bad = [...ipv4.filter((a) => ipv4Octets(a) === null || isPrivateHost(a)), ...ipv6.filter((a) => isPrivateHost(`[${a}]`))];
    return bad.length > 0 ? `${PRIVATE}: ${host} resolves to ${bad[0]}` : null;
  } catch (error) {
    if (error instanceof DnsFailure) return `Must name a host that resolves to a public address: ${host} cannot be resolved (${error.message})`;
    throw error;
  }
}

/**
 * Throws 400 validation_failed naming every refused field; call before anything reaches LiveKit
 * (or before a webhook endpoint is stored). Names are resolved once each, in parallel.
 */
export async function assertPublicDestinations(destinations: Destination[], policy: DestinationPolicy): Promise<void> {
  if (policy.allowPrivate) return;
  const hosts = destinations.map(({ url }) => canonicalHost(url));
  const names = new Set(hosts.filter((h): h is string => h !== null && !isPrivateHost(h) && ipv4Octets(h) === null && !h.startsWith("[")));
  const resolved = new Map(await Promise.all([...names].map(async (h) => [h, await resolvedProblem(policy.dohUrl, h)] as const)));
  const details: ErrorDetail[] = [];
  destinations.forEach(({ path }, i) => {
    const host = hosts[i]!;
    const problem = host === null ? "Must name a valid host" : isPrivateHost(host) ? PRIVATE : (resolved.get(host) ?? null);
    if (problem) details.push({ path, message: problem });
  });
  const first = details[0];
  if (first) throw validationFailed(`Invalid request: ${first.path}: ${first.message}`, details);
}
