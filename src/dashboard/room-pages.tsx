/** @jsxImportSource hono/jsx */
/**
 * A project's rooms: the live ones and their participants (LiveKit's state, through the rooms
 * service), muting a track, removing a participant and ending a room (admins; ending asks for the
 * room's name); and the sessions history (D1) with participants and minutes, in cursor pages.
 * When LiveKit does not answer, the page says so instead of failing.
 */
import { Hono } from "hono";
import { auditActor } from "../audit/record";
import { ApiError } from "../lib/errors";
import { deleteRoom, getRoom, listParticipants, listRooms, muteTrack, removeParticipant, type RoomDeps } from "../rooms/service";
import { serializeParticipant, serializeRoom, type ParticipantSchema, type RoomSchema } from "../rooms/schemas";
import { SessionListQuery, type SessionDetailSchema, type SessionSchema } from "../sessions/schemas";
import { getSession, listSessions } from "../sessions/service";
import type { z } from "@hono/zod-openapi";
import { asAppContext, type DashboardEnv, type DashContext } from "./context";
import { confirmsName, parseWith } from "./forms";
import { Layout } from "./layout";
import { page, redirectWith } from "./render";
import { projectAction, projectPage, signedIn, type ProjectPage } from "./shell";
import { ActionButton, Badge, Button, Card, DangerZone, DataTable, Empty, Field, KeyValues, Pager, Time, olderLink, type FieldErrors } from "./ui";

export const roomPages = new Hono<DashboardEnv>();
roomPages.use("/projects/*", signedIn);

type Room = z.infer<typeof RoomSchema>;
type Participant = z.infer<typeof ParticipantSchema>;
type Track = Participant["tracks"][number];
type SessionItem = z.infer<typeof SessionSchema>;
type SessionParticipant = z.infer<typeof SessionDetailSchema>["participants"][number];

const roomDeps = (c: DashContext): RoomDeps => ({ db: c.var.db, livekit: c.var.config.livekit, logger: c.var.logger });
const roomPath = (projectId: string, room: string) => `/projects/${projectId}/rooms/${encodeURIComponent(room)}`;

/** LiveKit being down or misconfigured is shown on the page; a tenant's mistake is not caught here. */
function isUpstream(error: unknown): error is ApiError {
  return error instanceof ApiError && (error.code === "upstream_error" || error.code === "service_unavailable");
}

function Unreachable(p: { error: ApiError }) {
  return (
    <div class="empty" role="status">
      <p class="empty-title">LiveKit did not answer</p>
      <p class="muted">{p.error.message} Live rooms show here again once it answers; the sessions history does not need it.</p>
    </div>
  );
}

function RoomTabs(p: { ctx: ProjectPage; current: "rooms" | "sessions" }) {
  const base = `/projects/${p.ctx.projectId}`;
  return (
    <nav class="tabs" aria-label="Rooms">
      <a href={`${base}/rooms`} aria-current={p.current === "rooms" ? "page" : undefined}>
        Live rooms
      </a>
      <a href={`${base}/sessions`} aria-current={p.current === "sessions" ? "page" : undefined}>
        Sessions history
      </a>
    </nav>
  );
}

// ---- live rooms ----------------------------------------------------------------------------

roomPages.get("/projects/:project_id/rooms", async (c) => {
  const ctx = await projectPage(c, c.req.param("project_id"), "room:read");
  const cursor = c.req.query("cursor") || undefined;
  const base = `/projects/${ctx.projectId}/rooms`;
  let list: { data: Room[]; next_cursor: string | null } | null = null;
  let failure: ApiError | null = null;
  try {
    const found = await listRooms(roomDeps(c), ctx.tenant, { limit: 50, cursor });
    list = { data: found.rooms.map((r) => serializeRoom(r, r.name)), next_cursor: found.next_cursor };
  } catch (error) {
    if (!isUpstream(error)) throw error;
    failure = error;
  }
  return page(
    c,
    <Layout c={c} shell={ctx.shell("Rooms", "rooms")}>
      <RoomTabs ctx={ctx} current="rooms" />
      <Card title="Live rooms" id="rooms">
        {failure ? (
          <Unreachable error={failure} />
        ) : (
          <>
            <DataTable
              caption="Live rooms"
              rows={list!.data}
              rowKey={(r) => r.name}
              empty={<Empty title="No live rooms">A room shows here while people are in it. Mint a token in the playground and join one.</Empty>}
              columns={[
                { head: "Room", class: "cell-name", cell: (r) => <a href={roomPath(ctx.projectId, r.name)}>{r.name}</a> },
                { head: "Participants", cell: (r) => (r.max_participants ? `${r.num_participants} of ${r.max_participants}` : String(r.num_participants)) },
                { head: "Recording", cell: (r) => (r.active_recording ? <Badge tone="bad">recording</Badge> : <span class="muted">no</span>) },
                { head: "Started", cell: (r) => <Time at={r.created_at} /> },
              ]}
            />
            <Pager newest={cursor ? base : null} older={olderLink(base, list!.next_cursor)} />
          </>
        )}
      </Card>
    </Layout>,
  );
});

function TrackList(p: { c: DashContext; ctx: ProjectPage; room: string; participant: Participant }) {
  const { c, ctx, room, participant } = p;
  if (participant.tracks.length === 0) return <span class="muted">none</span>;
  const admin = ctx.may("room:write");
  return (
    <ul class="tracks">
      {participant.tracks.map((t: Track) => (
        <li>
          <span>
            {t.source.replace(/_/g, " ")} <span class="muted small">{t.type}</span> {t.muted ? <Badge tone="warn">muted</Badge> : null}
          </span>
          {admin ? (
            <ActionButton
              action={`${roomPath(ctx.projectId, room)}/participants/${encodeURIComponent(participant.identity)}/mute`}
              csrf={c.var.csrfToken}
              fields={{ track_sid: t.sid, muted: t.muted ? "false" : "true" }}
              label={t.muted ? "Unmute" : "Mute"}
              formLabel={`${t.muted ? "Unmute" : "Mute"} ${t.source.replace(/_/g, " ")} of ${participant.identity}`}
              small
            />
          ) : null}
        </li>
      ))}
    </ul>
  );
}

async function roomPage(c: DashContext, projectId: string, room: string, errors: FieldErrors = {}, status: 200 | 400 = 200) {
  const ctx = await projectPage(c, projectId, "room:read");
  const deps = roomDeps(c);
  const path = roomPath(projectId, room);
  const csrf = c.var.csrfToken;
  let live: { room: Room; participants: Participant[] } | null = null;
  let failure: ApiError | null = null;
  try {
    const [found, participants] = await Promise.all([getRoom(deps, ctx.tenant, room), listParticipants(deps, ctx.tenant, room)]);
    live = { room: serializeRoom(found, found.name), participants: participants.map(serializeParticipant) };
  } catch (error) {
    if (!isUpstream(error)) throw error;
    failure = error;
  }
  const admin = ctx.may("room:write");
  return page(
    c,
    <Layout c={c} shell={ctx.shell(`Room ${room}`, "rooms")}>
      <RoomTabs ctx={ctx} current="rooms" />
      {!live ? (
        <Card title="Room" id="room">
          <Unreachable error={failure!} />
        </Card>
      ) : (
        <>
          <Card title="Room" id="room">
            <KeyValues
              items={[
                ["Name", live.room.name],
                ["LiveKit sid", <code>{live.room.sid}</code>],
                ["Participants", String(live.room.num_participants)],
                ["Recording", live.room.active_recording ? "yes" : "no"],
                ["Started", <Time at={live.room.created_at} />],
                live.room.metadata ? ["Metadata", <code>{live.room.metadata}</code>] : null,
              ]}
            />
            <p class="hint">
              <a href={`/projects/${projectId}/sessions?room=${encodeURIComponent(room)}`}>Sessions of this room</a>
            </p>
          </Card>
          <Card title="Participants" id="participants">
            <DataTable
              caption="Participants"
              rows={live.participants}
              rowKey={(p) => p.identity}
              empty={<Empty title="Nobody is in this room" />}
              columns={[
                { head: "Identity", class: "cell-name", cell: (p) => <>{p.identity}{p.name ? <div class="muted small">{p.name}</div> : null}</> },
                { head: "State", cell: (p) => <Badge tone={p.state === "active" ? "ok" : "muted"}>{p.state}</Badge> },
                { head: "Joined", cell: (p) => <Time at={p.joined_at} /> },
                { head: "Tracks", cell: (p) => <TrackList c={c} ctx={ctx} room={room} participant={p} /> },
                {
                  head: <span class="sr-only">Actions</span>,
                  cell: (p) =>
                    admin ? (
                      <ActionButton
                        action={`${path}/participants/${encodeURIComponent(p.identity)}/remove`}
                        csrf={csrf}
                        label="Remove"
                        formLabel={`Remove ${p.identity}`}
                        kind="danger"
                        small
                        confirm={`Remove ${p.identity} from the room? They can rejoin with a valid token.`}
                      />
                    ) : null,
                },
              ]}
            />
          </Card>
        </>
      )}
      {admin ? (
        <DangerZone
          title="End room"
          id="end"
          action={`${path}/end`}
          csrf={csrf}
          text="Everyone in it is disconnected at once and its recordings stop."
          confirm="End this room for everyone?"
          button="End room"
          typed={{ label: "Type the room's name to confirm", value: room, error: errors.confirm }}
        />
      ) : null}
    </Layout>,
    status,
  );
}

roomPages.get("/projects/:project_id/rooms/:room", (c) => roomPage(c, c.req.param("project_id"), c.req.param("room")));

/** Admin actions on a room: CSRF, the role, then the change; LiveKit's failure comes back as a message. */
async function roomAction(c: DashContext, run: (ctx: ProjectPage, form: URLSearchParams) => Promise<string>) {
  const { form, ctx } = await projectAction(c, "room:write");
  const back = roomPath(ctx.projectId, c.req.param("room") ?? "");
  try {
    return redirectWith(c, back, { notice: await run(ctx, form) });
  } catch (error) {
    if (!isUpstream(error)) throw error;
    return redirectWith(c, back, { error: error.message });
  }
}

roomPages.post("/projects/:project_id/rooms/:room/participants/:identity/mute", (c) =>
  roomAction(c, async (ctx, form) => {
    const muted = form.get("muted") !== "false";
    const trackSid = form.get("track_sid") ?? "";
    if (!trackSid) throw new ApiError("validation_failed", "Choose a track to mute.");
    await muteTrack(roomDeps(c), ctx.tenant, auditActor(asAppContext(c)), c.req.param("room"), c.req.param("identity"), { track_sid: trackSid, muted });
    return muted ? "Track muted." : "Track unmuted.";
  }),
);

roomPages.post("/projects/:project_id/rooms/:room/participants/:identity/remove", (c) =>
  roomAction(c, async (ctx) => {
    await removeParticipant(roomDeps(c), ctx.tenant, auditActor(asAppContext(c)), c.req.param("room"), c.req.param("identity"));
    return `${c.req.param("identity")} was removed from the room.`;
  }),
);

roomPages.post("/projects/:project_id/rooms/:room/end", async (c) => {
  const { form, ctx } = await projectAction(c, "room:write");
  const room = c.req.param("room");
  if (!confirmsName(form.get("confirm"), room)) return roomPage(c, ctx.projectId, room, { confirm: "Type the room's name exactly as shown." }, 400);
  try {
    await deleteRoom(roomDeps(c), ctx.tenant, auditActor(asAppContext(c)), room);
  } catch (error) {
    if (!isUpstream(error)) throw error;
    return redirectWith(c, roomPath(ctx.projectId, room), { error: error.message });
  }
  return redirectWith(c, `/projects/${ctx.projectId}/rooms`, { notice: `Room “${room}” ended.` });
});

// ---- sessions history ----------------------------------------------------------------------

const minutes = (n: number) => `${n.toLocaleString("en-US")} min`;

roomPages.get("/projects/:project_id/sessions", async (c) => {
  const ctx = await projectPage(c, c.req.param("project_id"), "session:read");
  const base = `/projects/${ctx.projectId}/sessions`;
  const room = c.req.query("room") || undefined;
  const parsed = parseWith(SessionListQuery, { limit: "50", cursor: c.req.query("cursor") || undefined, room });
  const list = parsed.ok ? await listSessions(c.var.db, ctx.projectId, parsed.data) : { data: [] as SessionItem[], next_cursor: null };
  return page(
    c,
    <Layout c={c} shell={ctx.shell("Sessions", "rooms")}>
      <RoomTabs ctx={ctx} current="sessions" />
      <Card title="Sessions history" id="sessions">
        <form method="get" action={base} class="filters" role="search">
          <Field label="Room" name="room" value={room} error={parsed.ok ? undefined : (parsed.errors.room ?? parsed.errors.cursor ?? parsed.errors._form)} placeholder="any room" />
          <div class="field form-actions">
            <Button kind="secondary">Filter</Button>
            {room ? <a href={base}>Clear</a> : null}
          </div>
        </form>
        <DataTable
          caption="Room sessions"
          rows={list.data}
          rowKey={(s) => s.id}
          empty={<Empty title="No sessions yet">A session is recorded from LiveKit's events each time a room starts.</Empty>}
          columns={[
            { head: "Room", class: "cell-name", cell: (s) => <a href={`${base}/${s.id}`}>{s.room}</a> },
            { head: "Started", cell: (s) => <Time at={s.started_at} /> },
            { head: "Ended", cell: (s) => (s.ended_at ? <Time at={s.ended_at} /> : <Badge tone="ok">live</Badge>) },
            { head: "Participants", cell: (s) => String(s.participant_count) },
            { head: "Peak", cell: (s) => String(s.peak_participants) },
            { head: "Participant minutes", cell: (s) => minutes(s.participant_minutes) },
            { head: "Egress minutes", cell: (s) => minutes(s.egress_minutes) },
          ]}
        />
        <Pager newest={c.req.query("cursor") ? (room ? `${base}?room=${encodeURIComponent(room)}` : base) : null} older={olderLink(base, list.next_cursor, { room })} />
      </Card>
    </Layout>,
    parsed.ok ? 200 : 400,
  );
});

roomPages.get("/projects/:project_id/sessions/:rs_id", async (c) => {
  const ctx = await projectPage(c, c.req.param("project_id"), "session:read");
  const s = await getSession(c.var.db, ctx.projectId, c.req.param("rs_id"));
  return page(
    c,
    <Layout c={c} shell={ctx.shell(`Session of ${s.room}`, "rooms")}>
      <RoomTabs ctx={ctx} current="sessions" />
      <Card title="Session" id="session">
        <KeyValues
          items={[
            ["Room", s.ended_at ? s.room : <a href={roomPath(ctx.projectId, s.room)}>{s.room}</a>],
            ["Id", <code>{s.id}</code>],
            ["Started", <Time at={s.started_at} />],
            ["Ended", s.ended_at ? <Time at={s.ended_at} /> : <Badge tone="ok">live</Badge>],
            ["Participants", `${s.participant_count} (peak ${s.peak_participants} at once)`],
            ["Participant minutes", minutes(s.participant_minutes)],
            ["Egress minutes", minutes(s.egress_minutes)],
          ]}
        />
      </Card>
      <Card title="Participants" id="participants">
        <DataTable<SessionParticipant>
          caption="Participants of this session"
          rows={s.participants}
          empty={<Empty title="Nobody joined" />}
          columns={[
            { head: "Identity", class: "cell-name", cell: (p) => p.identity },
            { head: "Name", cell: (p) => p.name ?? <span class="muted">—</span> },
            { head: "Joined", cell: (p) => <Time at={p.joined_at} /> },
            { head: "Left", cell: (p) => (p.left_at ? <Time at={p.left_at} /> : <Badge tone="ok">in the room</Badge>) },
            { head: "Minutes", cell: (p) => (p.minutes === null ? <span class="muted">—</span> : minutes(p.minutes)) },
          ]}
        />
      </Card>
    </Layout>,
  );
});
