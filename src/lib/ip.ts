/**
 * IP literals, parsed structurally (no regex that guesses at ranges). The one IPv6 parser of the
 * code base: rate-limit keys (`/64` prefixes) and private-address checks both read addresses here.
 */

/** The four octets of a dotted-quad IPv4 literal, or null if it is not one. */
export function ipv4Octets(host: string): number[] | null {
  const parts = host.split(".");
  if (parts.length !== 4 || !parts.every((p) => /^\d{1,3}$/.test(p))) return null;
  const octets = parts.map(Number);
  return octets.every((o) => o <= 255) ? octets : null;
}

/**
 * The eight 16-bit groups of an IPv6 literal (no brackets, no zone), or null if it is not one.
 * `::` compression and an embedded IPv4 tail (`::ffff:192.0.2.1`) are understood; hex is
 * case-insensitive.
 */
export function ipv6Groups(address: string): number[] | null {
  let text = address;
  // A trailing dotted quad (the URL parser normally rewrites it to hex) becomes two groups.
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
