import { env } from "cloudflare:workers";
import { TokenVerifier } from "livekit-server-sdk";
import { describe, expect, it } from "vitest";
import { parseNamespacedRoom } from "../../src/livekit/rooms";
import { call } from "../support/api";
import { createTenant } from "../support/factories";

const livekit = new TokenVerifier(env.LIVEKIT_API_KEY!, env.LIVEKIT_API_SECRET!);

describe("tenant isolation of minted tokens", () => {
  it("never lets project A's token name project B's namespace, whatever the room string holds", async () => {
    const a = await createTenant();
    const b = await createTenant();
    const hostile = [
      `${b.project.id}:standup`,
      `:${b.project.id}:standup`,
      `${b.project.id}`,
      `../${b.project.id}:x`,
      `${b.project.id}/standup`,
      `${b.project.id}\u2236standup`, // RATIO, looks like ':'
      `${b.project.id}\uFF1Astandup`, // FULLWIDTH COLON
      `${b.project.id.replace("proj_", "proj\u200B_")}:x`, // zero-width space
      `${b.project.id.replace("p", "\u0440")}:x`, // Cyrillic er, looks like 'p'
      `${b.project.id}\u0000:x`,
      `${b.project.id}:${"x".repeat(128 - b.project.id.length - 1)}`, // exactly 128
      "\u202E:" + b.project.id, // right-to-left override
      `${a.project.id}:${b.project.id}:x`,
      "%3A" + b.project.id,
    ];
    for (const room of hostile) {
      expect(room.length).toBeLessThanOrEqual(128);
      const res = await call("POST", "/v1/tokens", { token: a.key.secret, body: { identity: "mallory", room } });
      expect(res.status, room).toBe(201);
      expect(res.body.room).toBe(room);
      const claims = await livekit.verify(res.body.token);
      const wire = claims.video!.room!;
      expect(wire).toBe(`${a.project.id}:${room}`);
      // What LiveKit (and Pulse's webhook handler) attribute the room to: always project A.
      expect(parseNamespacedRoom(wire)).toEqual({ projectId: a.project.id, room });
      expect(wire.startsWith(`${b.project.id}:`)).toBe(false);

      // Project B's verify endpoint refuses the token; project A's accepts it with A's room name.
      const seenByB = await call("POST", "/v1/tokens/verify", { token: b.key.secret, body: { token: res.body.token } });
      expect(seenByB.body).toEqual({ valid: false, reason: "invalid" });
      const seenByA = await call("POST", "/v1/tokens/verify", { token: a.key.secret, body: { token: res.body.token } });
      expect(seenByA.body).toMatchObject({ valid: true, room, identity: "mallory" });
    }
  });
});
