/**
 * Which URLs an endpoint may point at. Always http(s), no embedded credentials. When private URLs
 * are not allowed (always in production): https only, and never a host that names this machine or
 * a private network (SSRF): `localhost`, internal-only suffixes, or IP literals in loopback,
 * private, link-local, CGNAT, ULA, multicast or reserved ranges, including IPv4 hidden in IPv6.
 *
 * Parsing is structural: the WHATWG URL parser already canonicalises tricks like `0x7f.1`,
 * `2130706433` or `[::ffff:127.0.0.1]`, so the checks below see plain dotted quads and
 * expanded-able IPv6. (A public hostname that resolves to a private address cannot be checked
 * from a Worker; Workers' `fetch` itself cannot reach private networks.)
 */
export const MAX_URL_LENGTH = 2048;

const INTERNAL_SUFFIXES = [".localhost", ".local", ".internal", ".home.arpa", ".localdomain"];

function ipv4Octets(host: string): number[] | null {
  const parts = host.split(".");
  if (parts.length !== 4 || !parts.every((p) => /^\d{1,3}$/.test(p))) return null;
  const octets = parts.map(Number);
  return octets.every((o) => o <= 255) ? octets : null;
}

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

/** Eight 16-bit groups of an IPv6 literal (without brackets), or null if it is not one. */
function ipv6Groups(host: string): number[] | null {
  let text = host;
  // A trailing dotted quad (the URL parser normally rewrites it to hex, but be safe).
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (dotted) {
    const o = ipv4Octets(dotted[1]!);
    if (!o) return null;
    text = text.slice(0, -dotted[1]!.length) + `${((o[0]! << 8) | o[1]!).toString(16)}:${((o[2]! << 8) | o[3]!).toString(16)}`;
  }
  const halves = text.split("::");
  if (halves.length > 2) return null;
  const parse = (s: string) => (s === "" ? [] : s.split(":").map((g) => (/^[0-9a-f]{1,4}$/i.test(g) ? parseInt(g, 16) : NaN)));
  const head = parse(halves[0]!);
  const tail = halves.length === 2 ? parse(halves[1]!) : [];
  const missing = 8 - head.length - tail.length;
  if (halves.length === 1 ? missing !== 0 : missing < 1) return null;
  const groups = [...head, ...Array<number>(halves.length === 2 ? missing : 0).fill(0), ...tail];
  return groups.some(Number.isNaN) ? null : groups;
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

/** null when `raw` is acceptable, else the reason it is not (a sentence for the API error). */
export function webhookUrlProblem(raw: string, allowPrivate: boolean): string | null {
  if (raw.length > MAX_URL_LENGTH) return `Must be at most ${MAX_URL_LENGTH} characters`;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return "Must be an absolute http(s) URL";
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") return "Must use http or https";
  if (url.username || url.password) return "Must not contain credentials";
  if (allowPrivate) return null;
  if (url.protocol !== "https:") return "Must use https";
  if (isPrivateHost(url.hostname)) return "Must not point at a local or private network address";
  return null;
}
