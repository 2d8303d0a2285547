/**
 * Reading and writing LiveKit's messages in both encodings Twirp speaks: protobuf-JSON
 * (`application/json`) and binary protobuf (`application/protobuf`), always through the message
 * classes of `@livekit/protocol` (the library LiveKit's own SDKs use), never hand-written shapes.
 * Answers are written as LiveKit's server writes them: snake_case field names with defaults.
 */
import type { z } from "@hono/zod-openapi";
import type { FieldList } from "@bufbuild/protobuf";
import { zodIssuesToError } from "../lib/openapi";
import { unstorableJson, type Unstorable } from "../lib/unstorable";
import { invalidArgument, TwirpFailure } from "./errors";
import { unstorableProtobuf } from "./wire-check";

export type Encoding = "json" | "protobuf";

/** What Pulse needs of a `@livekit/protocol` message. */
export interface LivekitMessage {
  toJson(options?: { useProtoFieldName?: boolean; emitDefaultValues?: boolean }): unknown;
  toBinary(): Uint8Array;
}

/** What Pulse needs of a `@livekit/protocol` message class. */
export interface LivekitMessageType<T extends LivekitMessage> {
  readonly typeName: string;
  readonly fields: FieldList;
  fromJson(json: never, options?: { ignoreUnknownFields?: boolean }): T;
  fromBinary(bytes: Uint8Array): T;
}

/** Largest request accepted; LiveKit's requests are small (SendData caps its payload far below this). */
export const MAX_TWIRP_BODY_BYTES = 256 * 1024;

export function encodingOf(contentType: string | undefined): Encoding | null {
  const media = (contentType ?? "").split(";")[0]!.trim().toLowerCase();
  if (media === "application/json") return "json";
  if (media === "application/protobuf" || media === "application/x-protobuf") return "protobuf";
  return null;
}

export async function readBody(request: Request): Promise<Uint8Array> {
  const declared = Number(request.headers.get("Content-Length") ?? "NaN");
  if (Number.isFinite(declared) && declared > MAX_TWIRP_BODY_BYTES) throw tooLarge();
  if (!request.body) return new Uint8Array();
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > MAX_TWIRP_BODY_BYTES) {
      await reader.cancel();
      throw tooLarge();
    }
    chunks.push(value);
  }
  const all = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    all.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return all;
}

function tooLarge() {
  return new TwirpFailure("malformed", `Request bodies are limited to ${MAX_TWIRP_BODY_BYTES} bytes.`);
}

/**
 * Decodes a request. Unknown JSON fields are ignored, as LiveKit's server does: a newer SDK may
 * send fields this version does not know, and LiveKit accepts them. What the decoder would not
 * keep as sent (a map key `__proto__`, text that is not valid Unicode) is refused by its path
 * first, as the `/v1` API refuses it, instead of reaching LiveKit changed.
 */
export function decodeRequest<T extends LivekitMessage>(type: LivekitMessageType<T>, encoding: Encoding, bytes: Uint8Array): T {
  let message: T;
  let refused: Unstorable | null;
  try {
    if (encoding === "protobuf") {
      refused = unstorableProtobuf(type, bytes);
      message = type.fromBinary(bytes);
    } else {
      const text = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(bytes);
      const json: unknown = text.trim() === "" ? {} : JSON.parse(text);
      refused = unstorableJson(text, json);
      message = type.fromJson(json as never, { ignoreUnknownFields: true });
    }
  } catch (error) {
    const reason = error instanceof Error ? error.message.slice(0, 200) : "undecodable";
    throw new TwirpFailure("malformed", `The body is not a valid ${type.typeName} in ${encoding === "json" ? "JSON" : "protobuf"}: ${reason}`);
  }
  if (refused) throw invalidArgument(`${refused.path}: ${refused.message}`);
  return message;
}

export function encodeResponse(message: LivekitMessage, encoding: Encoding): { body: string | Uint8Array; contentType: string } {
  if (encoding === "protobuf") return { body: message.toBinary(), contentType: "application/protobuf" };
  return { body: JSON.stringify(message.toJson({ useProtoFieldName: true, emitDefaultValues: true })), contentType: "application/json" };
}

/** A decoded request as protobuf-JSON (lowerCamelCase, defaults omitted): what was actually set. */
export function setFields(message: LivekitMessage): Record<string, unknown> {
  return message.toJson() as Record<string, unknown>;
}

/** Refuses any set field outside `allowed` (protobuf-JSON omits defaults, so present means set). */
export function onlySupportedFields(json: Record<string, unknown>, allowed: readonly string[], where = ""): void {
  const extra = Object.keys(json).filter((k) => !allowed.includes(k));
  if (extra.length > 0) throw invalidArgument(`Pulse does not support ${extra.map((k) => `${where}${k}`).join(", ")}.`);
}

/** Unix ms (Pulse's records) as LiveKit's int64 nanoseconds; 0 (LiveKit's "unset") for null. */
export function livekitNanos(ms: number | null): bigint {
  return ms === null ? 0n : BigInt(ms) * 1_000_000n;
}

/** A request translated to the REST API's body, checked by that route's own schema (its refusals become `invalid_argument`). */
export function restBody<S extends z.ZodType>(schema: S, value: unknown): z.output<S> {
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw zodIssuesToError(parsed.error);
  return parsed.data;
}
