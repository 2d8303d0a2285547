/**
 * The limit key of a client address. IPv4 addresses are keyed as they are. An IPv6 client usually
 * holds a whole /64 (one subnet per household or VM) and can rotate through it freely, so per-address
 * keys would let one client multiply its budget by 2^64; IPv6 is keyed by its /64 prefix instead.
 */
export function clientAddressKey(ip: string): string {
  if (!ip.includes(":")) return ip;
  // An IPv4 client written in IPv6 form is still one IPv4 client.
  const mapped = /^::ffff:(\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3})$/i.exec(ip);
  if (mapped && mapped[1]!.split(".").every((octet) => Number(octet) <= 255)) return mapped[1]!;
  const hextets = expandIpv6(ip.split("%")[0]!);
  return hextets ? `${hextets.slice(0, 4).join(":")}::/64` : ip;
}

/** The eight hextets of an IPv6 address (lowercase, no leading zeros), or null if it is not one. */
function expandIpv6(ip: string): string[] | null {
  let text = ip.toLowerCase();
  // An embedded IPv4 tail (::ffff:192.0.2.1) becomes two hextets.
  const v4 = /(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(text);
  if (v4) {
    const [a, b, c, d] = v4.slice(1).map(Number) as [number, number, number, number];
    if ([a, b, c, d].some((n) => n > 255)) return null;
    text = `${text.slice(0, v4.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const halves = text.split("::");
  if (halves.length > 2) return null;
  const head = halves[0] ? halves[0].split(":") : [];
  const tail = halves.length === 2 && halves[1] ? halves[1].split(":") : [];
  const missing = 8 - head.length - tail.length;
  if (halves.length === 1 ? missing !== 0 : missing < 1) return null;
  const all = [...head, ...Array<string>(halves.length === 2 ? missing : 0).fill("0"), ...tail];
  if (!all.every((h) => /^[0-9a-f]{1,4}$/.test(h))) return null;
  return all.map((h) => parseInt(h, 16).toString(16));
}
