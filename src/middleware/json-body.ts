import type { MiddlewareHandler } from "hono";
import type { AppEnv } from "../env";
import { readBounded } from "../lib/body";
import { ApiError, validationFailed } from "../lib/errors";
import { isApiPath } from "../lib/paths";
import { unstorableJson } from "../lib/unstorable";

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
  // A DELETE is read too: one sent with fields is refused by its route (src/router.ts), not ignored.
  if (method === "GET" || method === "HEAD" || method === "OPTIONS") return next();

  const declared = Number(c.req.header("Content-Length") ?? "NaN");
  if (declared > MAX_BODY_BYTES) throw tooLarge();
  const { text, utf8 } = await readText(c.req.raw, declared);
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
    // JSON is UTF-8: bytes that are not would reach storage as U+FFFD, changing the sender's text.
    if (!utf8) throw new Error("not UTF-8");
    parsed = JSON.parse(text);
  } catch {
    throw new ApiError("invalid_json", "The request body is not valid JSON.");
  }
  const refused = unstorableJson(text, parsed);
  if (refused) throw validationFailed(`Invalid request: ${refused.path}: ${refused.message}`, [refused]);
  await next();
};

// A leading BOM is dropped, as `Request.text()` does.
const strictUtf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false });
const lenientUtf8 = new TextDecoder();

/**
 * The body as text, and whether its bytes were valid UTF-8 (if not, the text has U+FFFD in their
 * place; JSON routes refuse it, forms and signed bodies get it as before). With a declared length
 * (at most the limit, checked above) the runtime's HTTP framing delivers exactly that many bytes,
 * so one native read is bounded; a chunked body has no length and is read chunk by chunk,
 * stopping past the limit.
 */
async function readText(request: Request, declared: number): Promise<{ text: string; utf8: boolean }> {
  let bytes: Uint8Array;
  if (declared >= 0) {
    bytes = new Uint8Array(await request.arrayBuffer());
  } else {
    const body = await readBounded(request.body, MAX_BODY_BYTES);
    if (!body.complete) throw tooLarge();
    bytes = body.bytes;
  }
  try {
    return { text: strictUtf8.decode(bytes), utf8: true };
  } catch {
    return { text: lenientUtf8.decode(bytes), utf8: false };
  }
}

function tooLarge() {
  return new ApiError("payload_too_large", `Request bodies are limited to ${MAX_BODY_BYTES} bytes.`);
}

/**
 * For a route whose JSON body is optional (`required: false`): an empty body means "no fields",
 * also when the client still sends `Content-Type: application/json` (many HTTP clients do), where
 * the validator would otherwise try to parse "" and answer `invalid_json`.
 */
export const emptyBodyAsNoFields: MiddlewareHandler<AppEnv> = async (c, next) => {
  // Hono's `c.req.json()` parses the cached text.
  if ((await c.req.text()) === "") (c.req.bodyCache as Record<string, unknown>).text = Promise.resolve("{}");
  await next();
};
