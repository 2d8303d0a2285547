/**
 * The shape of one Twirp method: its request message, the grant LiveKit requires for it, and the
 * handler that serves it through Pulse's own services.
 */
import type { Deps } from "../deps";
import type { VideoGrant } from "../livekit/jwt";
import type { TwirpCaller } from "./auth";
import type { LivekitMessage, LivekitMessageType } from "./codec";

export interface TwirpContext {
  deps: Deps;
  caller: TwirpCaller;
}

export interface TwirpMethod<Req extends LivekitMessage = LivekitMessage> {
  request: LivekitMessageType<Req>;
  /** null when the token's grant allows this request, else why not (LiveKit's rules per method). */
  authorize(video: VideoGrant, request: Req): string | null;
  handle(ctx: TwirpContext, request: Req): Promise<LivekitMessage>;
}

/** Keeps each method's request type while collecting methods of different types in one table. */
export function twirpMethod<Req extends LivekitMessage>(method: TwirpMethod<Req>): TwirpMethod {
  return method as unknown as TwirpMethod;
}

/** A grant that reaches a whole service (`roomRecord`, `ingressAdmin`, `roomCreate`, `roomList`). */
export function requireGrant(grant: keyof VideoGrant) {
  return (video: VideoGrant) => (video[grant] === true ? null : `This call needs the ${grant} grant.`);
}

/** `roomAdmin` for the very room the request names (the tenant's own name in both). */
export function requireRoomAdmin(room: (request: never) => string) {
  return (video: VideoGrant, request: LivekitMessage) => {
    if (video.roomAdmin !== true) return "This call needs the roomAdmin grant.";
    if (!video.room || video.room !== room(request as never)) return "The token's roomAdmin grant is for another room.";
    return null;
  };
}

/** LiveKit's ListEgress/ListIngress answer at most this many items (newest first) through Pulse. */
export const MAX_LIST_ITEMS = 1000;

/**
 * LiveKit's ListEgress/ListIngress over Pulse's records: filtered by the tenant's room name and by
 * LiveKit's id (empty = no filter, as protobuf has it). An id that is not the caller's is
 * not_found (`find` throws), as LiveKit answers an id it does not know.
 */
export async function listRecords<Row>(
  filter: { roomName: string; id: string },
  find: (id: string) => Promise<unknown>,
  list: (query: { room?: string; id?: string; limit: number }) => Promise<{ rows: Row[] }>,
): Promise<Row[]> {
  if (filter.id) await find(filter.id);
  const { rows } = await list({ room: filter.roomName || undefined, id: filter.id || undefined, limit: MAX_LIST_ITEMS });
  return rows;
}
