import type { MiddlewareHandler } from "hono";
import type { AppEnv } from "../env";
import { readBounded } from "../lib/body";
import { ApiError, validationFailed } from "../lib/errors";
import { isApiPath } from "../lib/paths";

/** Largest request body accepted (LiveKit webhooks and 64 KiB token metadata fit comfortably). */
export const MAX_BODY_BYTES = 256 * 1024;

const JSON_TYPE = /^application\/([\w.-]+\+)?json$/i;

/**
 * Bodies signed by their sender, checked by their route: the signature comes before anything the
 * body says (a bad or missing one is 401 whatever the body), so only the size limit applies here.
 */
export const SIGNED_BODY_PATHS = new Set(["/v1/livekit/webhook"]);

/**
 * Reads every request body once, before routing, and checks it: over the size limit → 413, a body
 * that is not JSON-typed → 415, unparseable → 400 `invalid_json`. The text is left in Hono's body
 * cache, so validators and handlers read it without touching the stream again (`c.req.json()`
 * parses that text), and the exact bytes stay available for signature checks (LiveKit webhooks
 * hash them). Dashboard pages (outside the API's paths) post forms, so only the size limit applies
 * to them.
 */
export const jsonBody: MiddlewareHandler<AppEnv> = async (c, next) => {
  const method = c.req.method;
  if (method === "GET" || method === "HEAD" || method === "OPTIONS" || method === "DELETE") return next();

  const declared = Number(c.req.header("Content-Length") ?? "NaN");
  if (declared > MAX_BODY_BYTES) throw tooLarge();
  const text = await readText(c.req.raw, declared);
  // The stream is consumed now; Hono's body cache serves `c.req.text()`/`json()` from here on.
  const cache = c.req.bodyCache as Record<string, unknown>;
  cache.text = Promise.resolve(text);
  // Dashboard forms are urlencoded; they get the size limit but not the JSON rules.
  if (text.length === 0 || !isApiPath(c.req.path) || SIGNED_BODY_PATHS.has(c.req.path)) return next();

  const mediaType = (c.req.header("Content-Type") ?? "").split(";")[0]!.trim();
  if (!JSON_TYPE.test(mediaType)) {
    throw new ApiError("unsupported_media_type", "Request bodies must be JSON (Content-Type: application/json).");
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new ApiError("invalid_json", "The request body is not valid JSON.");
  }
  // A key spelled `__proto__` is written literally or with a \u escape, and a lone surrogate only
  // with one: only then is the value walked.
  if (text.includes("__proto__") || text.includes("\\u")) {
    const refused = unstorable(parsed);
    if (refused) throw validationFailed(`Invalid request: ${refused.path}: ${refused.message}`, [refused]);
  }
  // Parsed once: validators' `c.req.json()` answers from the cache too.
  cache.json = Promise.resolve(parsed);
  await next();
};

/** A UTF-16 surrogate without its other half (JSON can carry one escaped, `"\ud800"`). */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

const PROTO_KEY = "the key __proto__ is not supported (a JavaScript object cannot hold it as data)";
const NOT_UNICODE = "is not valid Unicode (it holds a lone UTF-16 surrogate, which UTF-8 cannot store)";

/**
 * The first part of a parsed body Pulse could not keep as sent, or null: a `__proto__` key, which
 * JSON.parse keeps as an own key but schema parsing (zod's records) and any copy by assignment
 * drop, so a map such as participant attributes would lose that entry silently; and text with a
 * lone surrogate, which D1 and LiveKit (UTF-8) would store as U+FFFD. Both are refused by path.
 */
function unstorable(value: unknown, path = ""): { path: string; message: string } | null {
  if (typeof value === "string") return LONE_SURROGATE.test(value) ? { path: path || "(root)", message: NOT_UNICODE } : null;
  if (value === null || typeof value !== "object") return null;
  for (const key of Object.keys(value)) {
    const at = path ? `${path}.${key}` : key;
    if (key === "__proto__") return { path: at, message: PROTO_KEY };
    if (LONE_SURROGATE.test(key)) return { path: at, message: NOT_UNICODE };
    const inner = unstorable((value as Record<string, unknown>)[key], at);
    if (inner) return inner;
  }
  return null;
}

const utf8 = new TextDecoder();

/**
 * The body as text. With a declared length (at most the limit, checked above) the runtime's HTTP
 * framing delivers exactly that many bytes, so one native read is bounded; a chunked body has no
 * length and is read chunk by chunk, stopping past the limit.
 */
async function readText(request: Request, declared: number): Promise<string> {
  if (declared >= 0) return request.text();
  const body = await readBounded(request.body, MAX_BODY_BYTES);
  if (!body.complete) throw tooLarge();
  return utf8.decode(body.bytes);
}

function tooLarge() {
  return new ApiError("payload_too_large", `Request bodies are limited to ${MAX_BODY_BYTES} bytes.`);
}
