import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { clientAddressKey } from "../../src/rate-limit/client-key";
import { call, expectEnvelope } from "../support/api";

describe("client address keys", () => {
  it.each([
    ["192.0.2.7", "192.0.2.7"],
    ["2001:db8:1:2:aaaa:bbbb:cccc:dddd", "2001:db8:1:2::/64"],
    ["2001:0DB8:0001:0002:0:0:0:1", "2001:db8:1:2::/64"],
    ["2001:db8:1:2::1", "2001:db8:1:2::/64"],
    ["2001:db8::1", "2001:db8:0:0::/64"],
    ["::1", "0:0:0:0::/64"],
    ["::ffff:192.0.2.1", "192.0.2.1"],
    ["64:ff9b::192.0.2.1", "64:ff9b:0:0::/64"],
    ["fe80::1%eth0", "fe80:0:0:0::/64"],
  ])("keys %s as %s", (ip, key) => {
    expect(clientAddressKey(ip)).toBe(key);
  });

  it.each(["not-an-ip", "1:2:3", "1::2::3", "12345::1", "::ffff:999.0.0.1"])("keeps the unparseable %s as it is", (ip) => {
    expect(clientAddressKey(ip)).toBe(ip);
  });

  it("gives all addresses of one IPv6 /64 a single budget", async () => {
    const prefix = `2001:db8:${Math.floor(Math.random() * 0xffff).toString(16)}:7`;
    const limit = Number(env.RATE_LIMIT_IP_PER_MIN);
    const attempts = await Promise.all(
      Array.from({ length: limit + 3 }, (_, i) => call("POST", "/v1/auth/login", { ip: `${prefix}:${i.toString(16)}::1`, body: {} })),
    );
    expect(attempts.filter((r) => r.status === 429)).toHaveLength(3);
    expectEnvelope(await call("POST", "/v1/auth/login", { ip: `${prefix}:ffff:ffff:ffff:ffff`, body: {} }), 429, "rate_limited");
    // The neighbouring /64 is another client.
    expectEnvelope(await call("POST", "/v1/auth/login", { ip: `${prefix.replace(/:7$/, ":8")}::1`, body: {} }), 400, "validation_failed");
  });
});
