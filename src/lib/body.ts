/**
 * Reading a body without trusting its size: request bodies (chunked ones have no length) and the
 * answers of tenants' webhook receivers are read only up to a limit, and the stream is cancelled
 * as soon as it passes it.
 */

export interface BoundedBody {
  /** At most `limit` bytes: the whole body when `complete`, else its first `limit` bytes. */
  bytes: Uint8Array;
  /** False when the body was longer than `limit` (the rest was never read). */
  complete: boolean;
}

export async function readBounded(stream: ReadableStream<Uint8Array> | null, limit: number): Promise<BoundedBody> {
  if (!stream) return { bytes: new Uint8Array(0), complete: true };
  const reader = stream.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  let complete = false;
  try {
    while (size <= limit) {
      const { done, value } = await reader.read();
      if (done) {
        complete = true;
        break;
      }
      chunks.push(value);
      size += value.byteLength;
    }
  } finally {
    if (!complete) await reader.cancel().catch(() => undefined);
  }
  const all = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    all.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return { bytes: complete ? all : all.subarray(0, limit), complete };
}
