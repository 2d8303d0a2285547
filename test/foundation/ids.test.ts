/**
 * Ids and random strings (src/lib/ids.ts): the shape clients see (prefix, 22 base62 characters),
 * no repeats, and every character equally likely (a biased alphabet would make ids guessable).
 */
import { describe, expect, it } from "vitest";
import { ID_PREFIX, newId, randomBase62 } from "../../src/lib/ids";

const ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

describe("newId", () => {
  it("is the kind's prefix, an underscore and 22 base62 characters", () => {
    for (const kind of Object.keys(ID_PREFIX) as (keyof typeof ID_PREFIX)[]) {
      expect(newId(kind)).toMatch(new RegExp(`^${ID_PREFIX[kind]}_[0-9A-Za-z]{22}$`));
    }
  });

  it("does not repeat", () => {
    const ids = new Set(Array.from({ length: 20_000 }, () => newId("request")));
    expect(ids.size).toBe(20_000);
  });
});

describe("randomBase62", () => {
  it("has exactly the asked length, including lengths past one draw of random bytes", () => {
    for (const length of [0, 1, 12, 22, 64, 500]) {
      const s = randomBase62(length);
      expect(s).toHaveLength(length);
      expect(s).toMatch(/^[0-9A-Za-z]*$/);
    }
  });

  it("uses every character equally often (chi-squared over 124,000 characters)", () => {
    const counts = new Map<string, number>([...ALPHABET].map((c) => [c, 0]));
    const draws = 2_000;
    for (let i = 0; i < draws; i++) for (const c of randomBase62(62)) counts.set(c, counts.get(c)! + 1);
    const expected = (draws * 62) / ALPHABET.length;
    const chiSquared = [...counts.values()].reduce((sum, n) => sum + (n - expected) ** 2 / expected, 0);
    expect(counts.size).toBe(62);
    // 61 degrees of freedom: mean 61, and above 130 with probability under 1e-6. A modulo bias
    // (bytes 248-255 kept) makes the first eight characters a fifth more likely: chi-squared ~ 800.
    expect(chiSquared).toBeLessThan(130);
  });
});
