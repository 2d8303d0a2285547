/**
 * What a parsed JSON body can carry that Pulse could not keep as sent: a `__proto__` key, which
 * JSON.parse keeps as an own key but schema parsing (zod's records, protobuf-es maps) and any copy
 * by assignment drop, so a map such as participant attributes would lose that entry silently; and
 * text with a lone UTF-16 surrogate, which D1 and LiveKit (UTF-8) would store as U+FFFD. Both are
 * refused by path, by the `/v1` body rules and by the LiveKit-compatible API alike.
 */

/** A UTF-16 surrogate without its other half (JSON can carry one escaped, `"\ud800"`). */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

export const PROTO_KEY = "the key __proto__ is not supported (a JavaScript object cannot hold it as data)";
const NOT_UNICODE = "is not valid Unicode (it holds a lone UTF-16 surrogate, which UTF-8 cannot store)";

export interface Unstorable {
  path: string;
  message: string;
}

/**
 * The first unkeepable part of `parsed` (from `JSON.parse(text)`), or null. A `__proto__` key is
 * written literally or with a \u escape, and a lone surrogate only with one: other texts are not walked.
 */
export function unstorableJson(text: string, parsed: unknown): Unstorable | null {
  if (!text.includes("__proto__") && !text.includes("\\u")) return null;
  return walk(parsed, "");
}

function walk(value: unknown, path: string): Unstorable | null {
  if (typeof value === "string") return LONE_SURROGATE.test(value) ? { path: path || "(root)", message: NOT_UNICODE } : null;
  if (value === null || typeof value !== "object") return null;
  for (const key of Object.keys(value)) {
    const at = path ? `${path}.${key}` : key;
    if (key === "__proto__") return { path: at, message: PROTO_KEY };
    if (LONE_SURROGATE.test(key)) return { path: at, message: NOT_UNICODE };
    const inner = walk((value as Record<string, unknown>)[key], at);
    if (inner) return inner;
  }
  return null;
}
