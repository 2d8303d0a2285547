/**
 * Calling Pulse from tests exactly as a client would: through the Worker's `fetch` handler, with
 * JSON bodies and bearer tokens.
 */
import { createExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import worker from "../../src/index";

export const BASE = "https://pulse.test";

export interface ApiResponse<T = any> {
  status: number;
  headers: Headers;
  body: T;
  text: string;
}

export interface CallOptions {
  token?: string;
  body?: unknown;
  /** Raw body text sent as is (for malformed-input tests). */
  raw?: string;
  headers?: Record<string, string>;
  ip?: string;
}

/**
 * Hands one request to the Worker's `fetch` handler, as the runtime would, with its own execution
 * context (whose `waitUntil` work the pool awaits after each test). Not through
 * `exports.default.fetch`: there the pool re-imports the main module over its Node RPC on every
 * call, and that round trip grows with every call made before it in the file (measured: ~9 ms for
 * the first hundred requests, ~80 ms each after a thousand), which made long files quadratic.
 */
export function dispatch(request: Request): Promise<Response> {
  return Promise.resolve(worker.fetch!(request as Request<unknown, IncomingRequestCfProperties>, env, createExecutionContext()));
}

export async function call<T = any>(method: string, path: string, opts: CallOptions = {}): Promise<ApiResponse<T>> {
  const headers: Record<string, string> = { "CF-Connecting-IP": opts.ip ?? "203.0.113.10", ...opts.headers };
  if (opts.token) headers.Authorization = `Bearer ${opts.token}`;
  let body: string | undefined;
  if (opts.raw !== undefined) body = opts.raw;
  else if (opts.body !== undefined) {
    body = JSON.stringify(opts.body);
    headers["Content-Type"] ??= "application/json";
  }
  return readResponse<T>(await dispatch(new Request(`${BASE}${path}`, { method, headers, body })));
}

/** A response with its body read: parsed JSON, or the text when it is not JSON. */
export async function readResponse<T = any>(res: Response): Promise<ApiResponse<T>> {
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = text ? JSON.parse(text) : null;
  } catch {
    // not JSON (exports, health text); keep the text
  }
  return { status: res.status, headers: res.headers, body: parsed as T, text };
}

let ipCounter = 0;
/** Some routes are rate limited per IP; spread fixture traffic over addresses so tests never trip a limit by accident. */
export const freshIp = () => `192.0.2.${(ipCounter++ % 250) + 1}`;

/** Asserts the contract's error envelope and returns its `error` object. */
export function expectEnvelope(res: ApiResponse, status: number, code: string) {
  if (res.status !== status || res.body?.error?.code !== code) {
    throw new Error(`Expected ${status} ${code}, got ${res.status} ${res.text.slice(0, 500)}`);
  }
  const error = res.body.error;
  if (error.request_id !== res.headers.get("X-Request-Id")) throw new Error("request_id differs from X-Request-Id");
  if (typeof error.message !== "string" || error.message.length === 0) throw new Error("error.message missing");
  return error as { code: string; message: string; request_id: string; details?: { path: string; message: string }[] };
}
