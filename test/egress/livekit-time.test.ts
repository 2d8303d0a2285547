import { describe, expect, it } from "vitest";
import { livekitTimeToMs } from "../../src/livekit/timestamps";

describe("livekitTimeToMs", () => {
  const ms = Date.UTC(2026, 10, 28, 16, 0, 0, 123);

  it("reads LiveKit's int64 times in any unit as unix milliseconds", () => {
    expect(livekitTimeToMs(String(BigInt(ms) * 1_000_000n + 456_789n))).toBe(ms); // ns (EgressInfo)
    expect(livekitTimeToMs(String(BigInt(ms) * 1_000n))).toBe(ms); // µs
    expect(livekitTimeToMs(String(ms))).toBe(ms); // ms
    expect(livekitTimeToMs(ms)).toBe(ms);
    expect(livekitTimeToMs(String(Math.floor(ms / 1000)))).toBe(Math.floor(ms / 1000) * 1000); // s (webhook createdAt)
  });

  it("treats protojson's omitted default, zero and garbage as no time", () => {
    for (const value of [undefined, null, "", "0", 0, "-5", "abc", "1.5e9", {}]) expect(livekitTimeToMs(value)).toBeNull();
  });
});
