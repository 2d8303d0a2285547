import { afterEach, describe, expect, it, vi } from "vitest";
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
