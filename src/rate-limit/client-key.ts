import { ipv4Octets, ipv6Groups } from "../lib/ip";

/**
 * The limit key of a client address. IPv4 addresses are keyed as they are. An IPv6 client usually
 * holds a whole /64 (one subnet per household or VM) and can rotate through it freely, so per-address
 * keys would let one client multiply its budget by 2^64; IPv6 is keyed by its /64 prefix instead.
 */
export function clientAddressKey(ip: string): string {
  if (!ip.includes(":")) return ip;
  // An IPv4 client written in IPv6 form is still one IPv4 client.
  const mapped = /^::ffff:([\d.]+)$/i.exec(ip);
  if (mapped && ipv4Octets(mapped[1]!)) return mapped[1]!;
  const groups = ipv6Groups(ip.split("%")[0]!);
  return groups ? `${groups.slice(0, 4).map((g) => g.toString(16)).join(":")}::/64` : ip;
}
