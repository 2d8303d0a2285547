/**
 * Rooms as LiveKit lives them, for tests: a participant connects to the fake LiveKit's room and
 * LiveKit tells Pulse through its signed webhooks (`room_started`, `participant_joined`, …).
 */
import type { FakeLivekit, FakeParticipant, FakeTrack } from "./fake-livekit";
import { deliverLivekitEvent, ns } from "./livekit-webhook";

export const wire = (projectId: string, room: string) => `${projectId}:${room}`;

function roomOf(livekit: FakeLivekit, projectId: string, room: string) {
  const state = livekit.rooms.get(wire(projectId, room));
  if (!state) throw new Error(`no live room ${room}`);
  return { sid: state.sid, name: state.name };
}

/** LiveKit's `room_started` for a room the fake holds. */
export async function roomStarted(livekit: FakeLivekit, projectId: string, room: string, at = Date.now()) {
  await deliverLivekitEvent({ event: "room_started", createdAt: String(at), room: roomOf(livekit, projectId, room) });
}

/** A participant connects (the fake's state) and LiveKit sends `participant_joined`. */
export async function join(
  livekit: FakeLivekit,
  projectId: string,
  room: string,
  p: { identity: string; name?: string; tracks?: Omit<FakeTrack, "sid">[] },
  at = Date.now(),
): Promise<FakeParticipant> {
  const participant = livekit.join(wire(projectId, room), p);
  await deliverLivekitEvent({
    event: "participant_joined",
    createdAt: String(at),
    room: roomOf(livekit, projectId, room),
    participant: { sid: participant.sid, identity: participant.identity, name: participant.name, joinedAtMs: String(at) },
  });
  return participant;
}

/** LiveKit's `participant_left` (the fake's state is not touched: RemoveParticipant did that, or call it after). */
export async function left(room: { sid: string; name: string }, participant: FakeParticipant, joinedAt: number, at = Date.now()) {
  await deliverLivekitEvent({
    event: "participant_left",
    createdAt: String(at),
    room,
    participant: { sid: participant.sid, identity: participant.identity, name: participant.name, joinedAtMs: String(joinedAt) },
  });
}

/** LiveKit's `room_finished`. */
export async function roomFinished(room: { sid: string; name: string }, at = Date.now()) {
  await deliverLivekitEvent({ event: "room_finished", createdAt: String(at), room });
}

export { ns };
