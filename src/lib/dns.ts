/**
 * Resolving host names over DNS-over-HTTPS (the JSON API Cloudflare and Google serve:
 * `GET <DOH_URL>?name=<host>&type=A|AAAA` with `accept: application/dns-json`), through `fetch`,
 * bounded by a timeout. Used to judge where a tenant's URL really points before LiveKit (or a
 * webhook delivery) connects to it: `169.254.169.254.nip.io` looks public and is not.
 *
 * Any doubt is an error (`DnsFailure`), never an empty answer a caller could read as "fine": the
 * destination check fails closed.
 */
import { isTimeoutError } from "./timeout";

const DEFAULT_TIMEOUT_MS = 3_000;
let timeoutMs = DEFAULT_TIMEOUT_MS;

/** For tests: how long to wait for the resolver (null restores the default). */
export function setDnsTimeoutMs(ms: number | null): void {
  timeoutMs = ms ?? DEFAULT_TIMEOUT_MS;
}

/** Why a name has no usable answer (a sentence fragment for the API error). */
export class DnsFailure extends Error {
  constructor(reason: string) {
    super(reason);
    this.name = "DnsFailure";
  }
}

const RECORD_TYPE = { A: 1, AAAA: 28 } as const;
type RecordType = keyof typeof RECORD_TYPE;

/** DNS response codes in a DoH JSON answer's `Status`. */
const NOERROR = 0;
const NXDOMAIN = 3;

async function query(dohUrl: string, host: string, type: RecordType): Promise<string[]> {
  const url = new URL(dohUrl);
  url.searchParams.set("name", host);
  url.searchParams.set("type", type);
  let text: string;
  try {
    const res = await fetch(url, { headers: { accept: "application/dns-json" }, signal: AbortSignal.timeout(timeoutMs) });
    if (!res.ok) throw new DnsFailure(`the resolver answered HTTP ${res.status}`);
    text = await res.text();
  } catch (error) {
    if (error instanceof DnsFailure) throw error;
    throw new DnsFailure(isTimeoutError(error) ? "the resolver did not answer in time" : "the resolver could not be reached");
  }
  let answer: { Status?: unknown; Answer?: unknown } | null;
  try {
    answer = JSON.parse(text) as typeof answer;
  } catch {
    answer = null;
  }
  if (typeof answer !== "object" || answer === null || typeof answer.Status !== "number") throw new DnsFailure("the resolver's answer was not DNS JSON");
  if (answer.Status === NXDOMAIN) throw new DnsFailure("it does not exist (NXDOMAIN)");
  if (answer.Status !== NOERROR) throw new DnsFailure(`the resolver failed (DNS status ${answer.Status})`);
  const records = Array.isArray(answer.Answer) ? answer.Answer : [];
  // CNAME steps come along in the answer; only the addresses of the asked type count.
  return records
    .filter((r): r is { type: number; data: string } => typeof r === "object" && r !== null && r.type === RECORD_TYPE[type] && typeof r.data === "string")
    .map((r) => r.data.trim());
}

/**
 * Every IPv4 and IPv6 address `host` resolves to (A and AAAA, asked in parallel). Throws
 * `DnsFailure` when the name does not exist, has no address at all, or the resolver fails, errs
 * or is too slow.
 */
export async function resolveAddresses(dohUrl: string, host: string): Promise<{ ipv4: string[]; ipv6: string[] }> {
  const [ipv4, ipv6] = await Promise.all([query(dohUrl, host, "A"), query(dohUrl, host, "AAAA")]);
  if (ipv4.length === 0 && ipv6.length === 0) throw new DnsFailure("it has no address");
  return { ipv4, ipv6 };
}
