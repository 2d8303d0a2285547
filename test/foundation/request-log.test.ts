import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import worker from "../../src/index";
import { setClock } from "../../src/lib/clock";
import { holdingSink } from "../../src/lib/held-lines";
import { call } from "../support/api";
import { fetchWithEnv } from "../support/worker-env";

/** Every console line the Worker writes during `run`, parsed, with the console method used. */
async function capture(run: () => Promise<unknown>) {
  const lines: { method: string; line: Record<string, unknown> }[] = [];
  for (const method of ["log", "info", "warn", "error", "debug"] as const) {
    vi.spyOn(console, method).mockImplementation((text: unknown) => void lines.push({ method, line: JSON.parse(String(text)) }));
  }
  await run();
  vi.restoreAllMocks();
  return lines;
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe("the request log line", () => {
  it("never carries the query string, where tokens can travel", async () => {
    const lines = await capture(async () => {
      expect((await call("GET", "/health?token=sekrit-query-token-123")).status).toBe(200);
      expect((await call("GET", "/v1/nowhere?access_token=sekrit-query-token-456")).status).toBe(404);
    });
    const requests = lines.filter((l) => l.line.message === "request");
    expect(requests.map((l) => l.line.route)).toEqual(["/health", "unmatched"]);
    expect(JSON.stringify(lines)).not.toContain("sekrit-query-token");
  });

  it("is one JSON object with the request id the response names", async () => {
    let requestId: string | null = null;
    const lines = await capture(async () => {
      const res = await fetchWithEnv({}, new Request("https://pulse.test/health", { headers: { "X-Request-Id": "req_from-the-client-1" } }));
      requestId = res.headers.get("X-Request-Id");
    });
    expect(requestId).toBe("req_from-the-client-1");
    expect(lines).toHaveLength(1);
    expect(lines[0]!.method).toBe("info");
    expect(lines[0]!.line).toMatchObject({ level: "info", message: "request", request_id: "req_from-the-client-1", method: "GET", route: "/health", status: 200 });
    expect(Date.parse(String(lines[0]!.line.time))).not.toBeNaN();
  });

  it("is left out at LOG_LEVEL=warn, while errors are still written", async () => {
    const quiet = await capture(async () => {
      expect((await fetchWithEnv({ LOG_LEVEL: "warn" }, new Request("https://pulse.test/health"))).status).toBe(200);
    });
    expect(quiet).toEqual([]);
    const broken = await capture(async () => {
      const res = await fetchWithEnv({ LOG_LEVEL: "error", RATE_LIMIT_IP_PER_MIN: "lots" }, new Request("https://pulse.test/health"));
      expect(res.status).toBe(500);
    });
    expect(broken.map((l) => [l.method, l.line.message, l.line.variable])).toEqual([["error", "config_invalid", "RATE_LIMIT_IP_PER_MIN"]]);
  });

  it("is written at LOG_LEVEL=debug too", async () => {
    const lines = await capture(async () => {
      expect((await fetchWithEnv({ LOG_LEVEL: "debug" }, new Request("https://pulse.test/health"))).status).toBe(200);
    });
    expect(lines.map((l) => l.line.message)).toEqual(["request"]);
  });

  it("refuses an unknown LOG_LEVEL by name instead of guessing", async () => {
    const lines = await capture(async () => {
      const res = await fetchWithEnv({ LOG_LEVEL: "verbose" }, new Request("https://pulse.test/health"));
      expect(res.status).toBe(500);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe("internal_error");
    });
    expect(lines.find((l) => l.line.message === "config_invalid")?.line.variable).toBe("LOG_LEVEL");
  });
});

/** Each console call the Worker makes during `run`, as written (a held batch is one call). */
async function captureCalls(run: () => Promise<unknown>) {
  const calls: { method: string; text: string }[] = [];
  for (const method of ["log", "info", "warn", "error", "debug"] as const) {
    vi.spyOn(console, method).mockImplementation((text: unknown) => void calls.push({ method, text: String(text) }));
  }
  await run();
  vi.restoreAllMocks();
  return calls;
}

/** The parsed lines of one console call: one JSON object per line. */
const linesOf = (call: { text: string }) => call.text.split("\n").map((l) => JSON.parse(l) as Record<string, unknown>);

/** A request that has answered, and a promise for everything it handed to `waitUntil`. */
async function answer(vars: Record<string, string>, requestId: string) {
  const ctx = createExecutionContext();
  const patched = Object.assign(Object.create(null), env, vars);
  const res = await worker.fetch(new Request("https://pulse.test/health", { headers: { "X-Request-Id": requestId } }), patched, ctx);
  return { res, settled: () => waitOnExecutionContext(ctx) };
}

describe("request lines held together (LOG_BATCH_MS)", () => {
  const HOLD = { LOG_BATCH_MS: "200" };

  it("writes the first line at once and the window's others in one call, each line its own object", async () => {
    const ids = Array.from({ length: 6 }, (_, i) => `req_held-line-${i}-abcdef`);
    const calls = await captureCalls(() =>
      Promise.all(ids.map((id) => fetchWithEnv(HOLD, new Request("https://pulse.test/health", { headers: { "X-Request-Id": id } })))),
    );
    expect(calls.map((c) => c.method)).toEqual(["info", "info"]);
    expect(linesOf(calls[0]!)).toHaveLength(1);
    expect(linesOf(calls[1]!)).toHaveLength(5);
    const lines = calls.flatMap(linesOf);
    expect(lines.every((l) => l.message === "request" && l.route === "/health" && l.status === 200)).toBe(true);
    expect(lines.map((l) => l.request_id).sort()).toEqual([...ids].sort());
  });

  it("keeps the window open with the waitUntil of the request that opened it, and writes errors at once, after what is held", async () => {
    const calls = await captureCalls(async () => {
      const first = await answer(HOLD, "req_window-opener-123");
      const second = await answer(HOLD, "req_window-held-456");
      const broken = await answer({ ...HOLD, RATE_LIMIT_IP_PER_MIN: "lots" }, "req_window-broken-789");
      expect([first.res.status, second.res.status, broken.res.status]).toEqual([200, 200, 500]);
      // Only the opener's waitUntil holds the timer: once it settles, nothing is left held.
      await first.settled();
      await Promise.all([second.settled(), broken.settled()]);
    });
    expect(calls.map((c) => [c.method, linesOf(c).map((l) => `${l.message} ${l.request_id}`)])).toEqual([
      ["info", ["request req_window-opener-123"]],
      ["info", ["request req_window-held-456"]],
      ["error", ["config_invalid req_window-broken-789"]],
      ["info", ["request req_window-broken-789"]],
    ]);
  });

  it("writes at most 200 lines per call, and an idle isolate's next line at once", async () => {
    const windows: Promise<unknown>[] = [];
    const sink = holdingSink(50, (work) => void windows.push(work));
    const calls = await captureCalls(async () => {
      for (let i = 0; i < 401; i++) sink("info", JSON.stringify({ n: i }));
      await Promise.all(windows);
      sink("info", JSON.stringify({ n: 401 }));
      await Promise.all(windows);
    });
    expect(calls.map((c) => linesOf(c).length)).toEqual([1, 200, 200, 1]);
    expect(calls.flatMap(linesOf).map((l) => l.n)).toEqual(Array.from({ length: 402 }, (_, i) => i));
    expect(windows).toHaveLength(2);
  });

  it("stops holding lines in a window whose timer never closed it", async () => {
    const windows: Promise<unknown>[] = [];
    const sink = holdingSink(50, (work) => void windows.push(work));
    const calls = await captureCalls(async () => {
      setClock(() => 1_000_000);
      sink("info", JSON.stringify({ n: 0 }));
      sink("info", JSON.stringify({ n: 1 }));
      // Past twice the window with its timer not yet run, as when the request keeping it was cut short.
      setClock(() => 1_000_101);
      sink("info", JSON.stringify({ n: 2 }));
      setClock(null);
      await Promise.all(windows);
    });
    expect(calls.map((c) => linesOf(c).map((l) => l.n))).toEqual([[0], [1], [2]]);
  });

  it("refuses a LOG_BATCH_MS that is not a whole number of milliseconds up to 1000", async () => {
    for (const value of ["soon", "5000", "-1", "2.5"]) {
      const calls = await captureCalls(async () => {
        expect((await fetchWithEnv({ LOG_BATCH_MS: value }, new Request("https://pulse.test/health"))).status).toBe(500);
      });
      expect(calls.flatMap(linesOf).find((l) => l.message === "config_invalid")?.variable).toBe("LOG_BATCH_MS");
    }
  });
});
