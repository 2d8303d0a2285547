/**
 * What a binary protobuf request can carry that `@livekit/protocol`'s decoder would not keep as
 * sent: a map entry keyed `__proto__` (protobuf-es assigns map entries to a plain object, where
 * that key is the prototype, so the entry vanishes) and a string that is not valid UTF-8 (decoded
 * to U+FFFD, where LiveKit's own server refuses it). The bytes are walked with the message's own
 * field descriptors before decoding, so nothing is guessed from the bytes' text.
 */
import { BinaryReader, ScalarType, WireType, type FieldList, type MessageType } from "@bufbuild/protobuf";
import { PROTO_KEY, type Unstorable } from "../lib/unstorable";

const NOT_UTF8 = "is not valid UTF-8";
const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/** The first unkeepable field of `bytes` as a `type`, by its proto field path, or null. */
export function unstorableProtobuf(type: { readonly fields: FieldList }, bytes: Uint8Array, path = ""): Unstorable | null {
  const reader = new BinaryReader(bytes);
  while (reader.pos < reader.len) {
    const [no, wireType] = reader.tag();
    const field = type.fields.find(no);
    // Only length-delimited fields hold strings, messages or map entries.
    if (!field || wireType !== WireType.LengthDelimited) {
      reader.skip(wireType, no);
      continue;
    }
    const payload = reader.bytes();
    const at = path ? `${path}.${field.name}` : field.name;
    let found: Unstorable | null = null;
    if (field.kind === "scalar" && field.T === ScalarType.STRING) found = notUtf8(payload, at);
    else if (field.kind === "message") found = unstorableProtobuf(field.T, payload, at);
    else if (field.kind === "map") found = unstorableMapEntry(field.K, field.V, payload, at);
    if (found) return found;
  }
  return null;
}

type MapValue = { kind: "scalar"; T: ScalarType } | { kind: "enum" } | { kind: "message"; T: MessageType };

/** A map entry is a message of its own: the key is field 1, the value field 2. */
function unstorableMapEntry(keyType: ScalarType, value: MapValue, bytes: Uint8Array, path: string): Unstorable | null {
  const reader = new BinaryReader(bytes);
  let key = "";
  let valueBytes: Uint8Array | null = null;
  while (reader.pos < reader.len) {
    const [no, wireType] = reader.tag();
    if (wireType !== WireType.LengthDelimited || (no !== 1 && no !== 2)) {
      reader.skip(wireType, no);
      continue;
    }
    const payload = reader.bytes();
    if (no === 2) valueBytes = payload;
    else if (keyType === ScalarType.STRING) {
      const keyError = notUtf8(payload, `${path} key`);
      if (keyError) return keyError;
      key = utf8.decode(payload);
      if (key === "__proto__") return { path: `${path}.${key}`, message: PROTO_KEY };
    }
  }
  if (!valueBytes) return null;
  const at = `${path}.${key}`;
  if (value.kind === "message") return unstorableProtobuf(value.T, valueBytes, at);
  if (value.kind === "scalar" && value.T === ScalarType.STRING) return notUtf8(valueBytes, at);
  return null;
}

function notUtf8(bytes: Uint8Array, path: string): Unstorable | null {
  try {
    utf8.decode(bytes);
    return null;
  } catch {
    return { path, message: NOT_UTF8 };
  }
}
