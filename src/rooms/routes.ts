/**
 * Rooms and participants, LiveKit's live state: `/v1/rooms…` for API keys (`rooms:read` for GET,
 * `rooms:write` otherwise; see the authentication table) and `/v1/projects/{project_id}/rooms…`
 * for signed-in members (viewers read, admins change). Both surfaces know the project before the
 * handler runs (the key's, or the member's access checked below, which set `c.var.projectId`/`orgId`)
 * and then share one set of handlers.
 */
import { createRoute, z } from "@hono/zod-openapi";
import type { Context, MiddlewareHandler } from "hono";
import { projectAccess } from "../auth/caller";
import { auditActor } from "../audit/record";
import type { AppEnv } from "../env";
import { bearerSecurity, conflictResponse, errorResponses, jsonBody, jsonContent, ListQuery, listOf, quotaResponse, upstreamResponse } from "../lib/openapi";
import { ProjectParams } from "../lib/params";
import { createRouter } from "../router";
import {
  CreateRoomBody,
  MuteTrackBody,
  ParticipantParams,
  ParticipantSchema,
  RoomParams,
  RoomSchema,
  SendDataBody,
  serializeParticipant,
  serializeRoom,
  serializeTrack,
  TrackSchema,
  UpdateParticipantBody,
  UpdateRoomBody,
} from "./schemas";
import * as rooms from "./service";

export const roomRoutes = createRouter();
type Router = typeof roomRoutes;

const isRead = (c: Context<AppEnv>) => c.req.method === "GET" || c.req.method === "HEAD";

// Members ("/…/rooms/*" also matches "/…/rooms" itself).
const memberAccess: MiddlewareHandler<AppEnv> = async (c, next) => {
  await projectAccess(c, c.req.param("project_id") ?? "", isRead(c) ? "room:read" : "room:write");
  await next();
};
roomRoutes.use("/v1/projects/:project_id/rooms/*", memberAccess);

/** The project the middleware above resolved for this request. */
function roomContext(c: Context<AppEnv>) {
  const { projectId, orgId, config, db, logger } = c.var;
  if (!projectId || !orgId) throw new Error("rooms: the project was not resolved before the handler: check the authentication table");
  return { deps: { db, livekit: config.livekit, logger }, project: { projectId, orgId }, actor: auditActor(c) };
}

const room = (c: Context<AppEnv>) => c.req.param("room") ?? "";
const identity = (c: Context<AppEnv>) => c.req.param("identity") ?? "";
const noContent = { 204: { description: "Done" } } as const;

interface Surface {
  prefix: string;
  params: z.ZodObject;
  tags: string[];
  who: (write: boolean) => string;
}

const API: Surface = { prefix: "/v1/rooms", params: z.object({}), tags: ["Rooms"], who: (w) => (w ? "rooms:write" : "rooms:read") };
const MEMBERS: Surface = {
  prefix: "/v1/projects/{project_id}/rooms",
  params: ProjectParams,
  tags: ["Rooms (dashboard)"],
  who: (w) => (w ? "admin" : "viewer"),
};

/** Registers every room route under one surface; the handlers are the same for both. */
function register(router: Router, s: Surface) {
  const roomParams = s.params.extend(RoomParams.shape);
  const participantParams = s.params.extend(ParticipantParams.shape);
  const def = (method: "get" | "post" | "patch" | "delete", path: string, summary: string, request: object, responses: object) =>
    createRoute({
      method,
      path: `${s.prefix}${path}`,
      tags: s.tags,
      summary: `${summary} (${s.who(method !== "get")})`,
      security: bearerSecurity,
      request,
      responses: { ...responses, ...errorResponses, ...upstreamResponse },
    });
  // The handlers read validated bodies through `json()`; params are validated by the route and read raw.
  const json = <T,>(c: Context<AppEnv>) => (c.req as unknown as { valid(t: "json"): T }).valid("json");
  const query = <T,>(c: Context<AppEnv>) => (c.req as unknown as { valid(t: "query"): T }).valid("query");
  const on = (route: ReturnType<typeof def>, handler: (c: Context<AppEnv>) => Promise<Response>) =>
    router.openapi(route, handler as never);

  on(
    def("post", "", "Create a room; 409 if it is live", { params: s.params, body: jsonBody(CreateRoomBody) }, {
      201: jsonContent(RoomSchema, "Created"),
      ...conflictResponse("The room is live"),
      ...quotaResponse,
    }),
    async (c) => {
      const { deps, project, actor } = roomContext(c);
      const created = await rooms.createRoom(deps, project, actor, json<z.infer<typeof CreateRoomBody>>(c));
      return c.json(serializeRoom(created, created.name), 201);
    },
  );
  on(
    def("get", "", "This project's live rooms, by name", { params: s.params, query: ListQuery }, { 200: jsonContent(listOf(RoomSchema), "Live rooms") }),
    async (c) => {
      const { deps, project } = roomContext(c);
      const page = await rooms.listRooms(deps, project, query<{ limit: number; cursor?: string }>(c));
      return c.json({ data: page.rooms.map((r) => serializeRoom(r, r.name)), next_cursor: page.next_cursor }, 200);
    },
  );
  on(def("get", "/{room}", "Read a live room", { params: roomParams }, { 200: jsonContent(RoomSchema, "The room") }), async (c) => {
    const { deps, project } = roomContext(c);
    const found = await rooms.getRoom(deps, project, room(c));
    return c.json(serializeRoom(found, found.name), 200);
  });
  on(
    def("patch", "/{room}", "Update a room's metadata", { params: roomParams, body: jsonBody(UpdateRoomBody) }, { 200: jsonContent(RoomSchema, "Updated") }),
    async (c) => {
      const { deps, project, actor } = roomContext(c);
      const updated = await rooms.updateRoomMetadata(deps, project, actor, room(c), json<{ metadata: string }>(c).metadata);
      return c.json(serializeRoom(updated, updated.name), 200);
    },
  );
  on(def("delete", "/{room}", "End a room, disconnecting everyone", { params: roomParams }, noContent), async (c) => {
    const { deps, project, actor } = roomContext(c);
    await rooms.deleteRoom(deps, project, actor, room(c));
    return c.body(null, 204);
  });
  on(
    def("post", "/{room}/data", "Send data to a room's participants", { params: roomParams, body: jsonBody(SendDataBody) }, {
      202: { description: "Handed to LiveKit" },
    }),
    async (c) => {
      const { deps, project, actor } = roomContext(c);
      await rooms.sendData(deps, project, actor, room(c), json<z.infer<typeof SendDataBody>>(c));
      return c.body(null, 202);
    },
  );
  on(
    def("get", "/{room}/participants", "A room's live participants, by identity", { params: roomParams, query: ListQuery }, {
      200: jsonContent(listOf(ParticipantSchema), "Participants"),
    }),
    async (c) => {
      const { deps, project } = roomContext(c);
      const page = await rooms.pageParticipants(deps, project, room(c), query<{ limit: number; cursor?: string }>(c));
      return c.json({ data: page.participants.map(serializeParticipant), next_cursor: page.next_cursor }, 200);
    },
  );
  on(
    def("get", "/{room}/participants/{identity}", "Read a participant", { params: participantParams }, { 200: jsonContent(ParticipantSchema, "The participant") }),
    async (c) => {
      const { deps, project } = roomContext(c);
      return c.json(serializeParticipant(await rooms.getParticipant(deps, project, room(c), identity(c))), 200);
    },
  );
  on(
    def("patch", "/{room}/participants/{identity}", "Update a participant; permission merges with the current one", {
      params: participantParams,
      body: jsonBody(UpdateParticipantBody),
    }, { 200: jsonContent(ParticipantSchema, "Updated") }),
    async (c) => {
      const { deps, project, actor } = roomContext(c);
      const updated = await rooms.updateParticipant(deps, project, actor, room(c), identity(c), json<z.infer<typeof UpdateParticipantBody>>(c));
      return c.json(serializeParticipant(updated), 200);
    },
  );
  on(def("delete", "/{room}/participants/{identity}", "Remove a participant from the room", { params: participantParams }, noContent), async (c) => {
    const { deps, project, actor } = roomContext(c);
    await rooms.removeParticipant(deps, project, actor, room(c), identity(c));
    return c.body(null, 204);
  });
  on(
    def("post", "/{room}/participants/{identity}/mute", "Mute or unmute a published track", { params: participantParams, body: jsonBody(MuteTrackBody) }, {
      200: jsonContent(TrackSchema, "The track"),
    }),
    async (c) => {
      const { deps, project, actor } = roomContext(c);
      return c.json(serializeTrack(await rooms.muteTrack(deps, project, actor, room(c), identity(c), json<{ track_sid: string; muted: boolean }>(c))), 200);
    },
  );
}

register(roomRoutes, API);
register(roomRoutes, MEMBERS);
