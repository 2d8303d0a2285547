/**
 * A fake LiveKit for tests that run the Worker as a process (`wrangler dev`): a Node HTTP server
 * on 127.0.0.1 answering the RoomService calls of LiveKit's Twirp API (CreateRoom, ListRooms,
 * DeleteRoom, ListParticipants) in LiveKit's JSON, after judging each service token the way
 * LiveKit does: it must verify with the deployment's key and secret (livekit-server-sdk's
 * `TokenVerifier`) and carry the grant the method needs. Refusals are kept in `violations`.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { TokenVerifier } from "livekit-server-sdk";

export interface HttpLivekit {
  /** Base URL for `LIVEKIT_API_URL`. */
  url: string;
  rooms: Map<string, { sid: string; name: string; creation_time: string; metadata: string }>;
  violations: string[];
  stop(): Promise<void>;
}

const GRANT: Record<string, "roomCreate" | "roomList" | "roomAdmin"> = {
  CreateRoom: "roomCreate",
  DeleteRoom: "roomCreate",
  ListRooms: "roomList",
  ListParticipants: "roomAdmin",
};

export async function startHttpLivekit(apiKey: string, apiSecret: string): Promise<HttpLivekit> {
  const verifier = new TokenVerifier(apiKey, apiSecret);
  const rooms: HttpLivekit["rooms"] = new Map();
  const violations: string[] = [];
  let seq = 0;

  const server: Server = createServer((req, res) => {
    let text = "";
    req.on("data", (chunk) => (text += chunk));
    req.on("end", async () => {
      const reply = (status: number, body: unknown) => res.writeHead(status, { "Content-Type": "application/json" }).end(JSON.stringify(body));
      const method = /^\/twirp\/livekit\.RoomService\/(\w+)$/.exec(req.url ?? "")?.[1];
      if (!method || !(method in GRANT)) return reply(404, { code: "bad_route", msg: `no fake for ${req.url}` });
      let body: Record<string, any>;
      try {
        const claims = await verifier.verify((req.headers.authorization ?? "").replace(/^Bearer /, ""));
        if (!claims.video?.[GRANT[method]!]) throw new Error(`${method} without ${GRANT[method]}`);
        body = JSON.parse(text || "{}");
      } catch (error) {
        violations.push(`${method}: ${(error as Error).message}`);
        return reply(401, { code: "unauthenticated", msg: (error as Error).message });
      }
      switch (method) {
        case "CreateRoom": {
          const room = rooms.get(body.name) ?? { sid: `RM_${(++seq).toString(36).padStart(8, "0")}`, name: body.name, creation_time: String(Math.floor(Date.now() / 1000)), metadata: body.metadata ?? "" };
          rooms.set(room.name, room);
          return reply(200, { ...room, empty_timeout: body.emptyTimeout ?? 300, departure_timeout: 20, max_participants: body.maxParticipants ?? 0, num_participants: 0, active_recording: false });
        }
        case "ListRooms": {
          const names: string[] = body.names ?? [];
          const list = [...rooms.values()].filter((r) => names.length === 0 || names.includes(r.name));
          return reply(200, { rooms: list.map((r) => ({ ...r, empty_timeout: 300, departure_timeout: 20, max_participants: 0, num_participants: 0, active_recording: false })) });
        }
        case "DeleteRoom":
          rooms.delete(body.room);
          return reply(200, {});
        case "ListParticipants":
          return reply(200, { participants: [] });
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    rooms,
    violations,
    stop: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
