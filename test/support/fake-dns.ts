/**
 * A fake DNS-over-HTTPS JSON resolver at the test config's DOH_URL (`vitest.config.ts`), installed
 * by stubbing `globalThis.fetch` like the fake LiveKit; other hosts pass through.
 *
 * It answers the way Cloudflare's `dns-query` JSON API does (`{Status, Answer: [{name, type, TTL,
 * data}]}`, CNAME steps included) from the zone a test sets, and judges each query as that API
 * would: GET, `accept: application/dns-json`, a `name` and a `type` of A or AAAA. A failed check is
 * kept in `violations`, which is asserted empty after each test. Names outside the zone are NXDOMAIN.
 */
import { env } from "cloudflare:workers";
import { afterEach, beforeEach, expect } from "vitest";
import { setDnsTimeoutMs } from "../../src/lib/dns";

export const DOH_URL = env.DOH_URL!;

export type FakeAnswer =
  | { A?: string[]; AAAA?: string[]; CNAME?: string }
  | { status: number }
  | { failure: "http_500" | "not_json" | "hang" | "network" };

export interface DnsQuery {
  name: string;
  type: string;
}

/** Public names the existing destination tests use, with documentation-free public addresses. */
const PUBLIC_ZONE: Record<string, FakeAnswer> = {
  "example.com": { A: ["93.184.215.14"], AAAA: ["2606:2800:21f:cb07:6820:80da:af6b:8b2c"] },
  "amazonaws.com": { A: ["52.95.110.1"] },
  "youtube.com": { A: ["142.250.180.14"], AAAA: ["2a00:1450:4001:82b::200e"] },
};

export class FakeDns {
  readonly queries: DnsQuery[] = [];
  readonly violations: string[] = [];
  private zone = new Map<string, FakeAnswer>();
  private realFetch: typeof fetch | null = null;

  install(): this {
    this.realFetch = globalThis.fetch;
    const real = this.realFetch;
    globalThis.fetch = (async (input: RequestInfo | URL, init?: RequestInit) => {
      const url = input instanceof Request ? input.url : String(input);
      if (!url.startsWith(`${DOH_URL}?`) && url !== DOH_URL) return real(input, init);
      return this.handle(new Request(input, init), init?.signal ?? undefined);
    }) as typeof fetch;
    return this;
  }

  uninstall(): void {
    if (this.realFetch) globalThis.fetch = this.realFetch;
    this.realFetch = null;
  }

  /** `name` (and, with `*.` + suffix, every name under it) answers this way. */
  set(name: string, answer: FakeAnswer): this {
    this.zone.set(name.toLowerCase(), answer);
    return this;
  }

  /** Names asked about, in order, once per name (A and AAAA are two queries of one lookup). */
  namesAsked(): string[] {
    return [...new Set(this.queries.map((q) => q.name))];
  }

  private lookup(name: string): FakeAnswer | undefined {
    const n = name.toLowerCase().replace(/\.$/, "");
    if (this.zone.has(n)) return this.zone.get(n);
    for (const [pattern, answer] of this.zone) if (pattern.startsWith("*.") && n.endsWith(pattern.slice(1))) return answer;
    for (const [suffix, answer] of Object.entries(PUBLIC_ZONE)) if (n === suffix || n.endsWith(`.${suffix}`)) return answer;
    return undefined;
  }

  private async handle(request: Request, signal: AbortSignal | undefined): Promise<Response> {
    const url = new URL(request.url);
    const name = url.searchParams.get("name") ?? "";
    const type = url.searchParams.get("type") ?? "";
    this.queries.push({ name, type });
    if (request.method !== "GET") this.violations.push(`${name}: method ${request.method}`);
    if (request.headers.get("accept") !== "application/dns-json") this.violations.push(`${name}: accept ${request.headers.get("accept")}`);
    if (name === "" || (type !== "A" && type !== "AAAA")) {
      this.violations.push(`query without a name or with type ${type}`);
      return new Response(JSON.stringify({ Status: 1 }), { status: 400 });
    }
    if (!signal) this.violations.push(`${name}: query without a timeout`);
    const answer = this.lookup(name);
    if (answer && "failure" in answer) return this.fail(answer.failure, signal);
    const status = answer === undefined ? 3 : "status" in answer ? answer.status : 0;
    const records: { name: string; type: number; TTL: number; data: string }[] = [];
    if (answer && !("status" in answer)) {
      let owner = name;
      if (answer.CNAME) {
        records.push({ name, type: 5, TTL: 300, data: `${answer.CNAME}.` });
        owner = answer.CNAME;
      }
      for (const data of (type === "A" ? answer.A : answer.AAAA) ?? []) records.push({ name: owner, type: type === "A" ? 1 : 28, TTL: 300, data });
    }
    const body = { Status: status, TC: false, RD: true, RA: true, AD: false, CD: false, Question: [{ name, type: type === "A" ? 1 : 28 }], ...(records.length ? { Answer: records } : {}) };
    return new Response(JSON.stringify(body), { status: 200, headers: { "Content-Type": "application/dns-json" } });
  }

  private fail(failure: "http_500" | "not_json" | "hang" | "network", signal: AbortSignal | undefined): Promise<Response> | Response {
    switch (failure) {
      case "http_500":
        return new Response("upstream error", { status: 500 });
      case "not_json":
        return new Response("<html>captive portal</html>", { status: 200, headers: { "Content-Type": "text/html" } });
      case "network":
        return Promise.reject(new TypeError("Network connection lost."));
      case "hang":
        return new Promise<Response>((_, reject) => {
          if (!signal) return;
          if (signal.aborted) reject(signal.reason);
          signal.addEventListener("abort", () => reject(signal.reason));
        });
    }
  }
}

/** A fresh fake resolver for each test of the calling file; its violations must stay empty. */
export function useFakeDns(options: { timeoutMs?: number } = {}): FakeDns {
  let current = new FakeDns();
  const proxy = new Proxy({} as FakeDns, {
    get: (_, prop) => {
      const value = (current as unknown as Record<string | symbol, unknown>)[prop];
      return typeof value === "function" ? (value as (...args: unknown[]) => unknown).bind(current) : value;
    },
  });
  beforeEach(() => {
    current = new FakeDns().install();
    if (options.timeoutMs !== undefined) setDnsTimeoutMs(options.timeoutMs);
  });
  afterEach(() => {
    if (options.timeoutMs !== undefined) setDnsTimeoutMs(null);
    current.uninstall();
    expect(current.violations).toEqual([]);
  });
  return proxy;
}
