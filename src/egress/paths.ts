/**
 * Output path templates. LiveKit cleans an output path first and fills its templates afterwards,
 * with values it does not clean: `{room_name}` becomes the namespaced room (`proj_…:<room>`), and
 * `{publisher_identity}` and `{track_id}` are free text (identities are never restricted). A room or
 * identity such as `../../proj_victim/x` would then climb out of the project's prefix on the
 * platform's storage, and segment and image paths are also directories on the egress host's disk.
 * The same happens with the name LiveKit makes up for a path that names only a directory
 * (`rec/` → `rec/<room or identity>-<time>.mp4`).
 *
 * So Pulse fills in what it knows when the egress starts itself, escaped so a value can never be or
 * add a path step, leaves to LiveKit only templates whose values cannot hold a separator or a dot,
 * and refuses the rest, naming the field. Values are percent-encoded (UTF-8) except unreserved ASCII
 * (`A-Z a-z 0-9 - . _ ~`), and a value made only of dots has its dots encoded too, so `weekly: all
 * hands` becomes `weekly%3A%20all%20hands` and `..` becomes `%2E%2E`. Records keep the tenant's
 * paths as given; only LiveKit's request carries the expanded ones.
 */
import { validationFailed, type ErrorDetail } from "../lib/errors";
import type { StartEgressBody } from "./schemas";

/** Filled by LiveKit with its own ids, times and enums (letters, digits, `_`, `-`; maybe empty). */
const LIVEKIT_FILLED = ["{room_id}", "{time}", "{utc}", "{retry}", "{track_type}", "{track_source}"];
/** Templates whose LiveKit value is free text: Pulse fills them, or refuses them. */
const PULSE_FILLED = /\{(room_name|publisher_identity|track_id)\}/g;
type PulseTemplate = "room_name" | "publisher_identity" | "track_id";

const UNRESERVED = /^[A-Za-z0-9\-._~]$/;
const utf8 = new TextEncoder();

/** `value` as one path-safe string: never a separator, never `.` or `..`, never a template. */
export function pathSafe(value: string): string {
  const encoded = Array.from(utf8.encode(value), (byte) => {
    const char = String.fromCharCode(byte);
    return UNRESERVED.test(char) ? char : `%${byte.toString(16).toUpperCase().padStart(2, "0")}`;
  }).join("");
  return /^\.+$/.test(value) ? encoded.replace(/\./g, "%2E") : encoded;
}

/** What Pulse knows when the egress starts, per template, and the name LiveKit would give a bare directory. */
function knownValues(body: StartEgressBody): { values: Partial<Record<PulseTemplate, string>>; fileIdentifier: string; roomIdentifier: string } {
  if (body.type === "web") return { values: {}, fileIdentifier: "web", roomIdentifier: "web" };
  const room = pathSafe(body.room);
  if (body.type === "participant") {
    const identity = pathSafe(body.identity);
    return { values: { room_name: room, publisher_identity: identity }, fileIdentifier: identity, roomIdentifier: room };
  }
  if (body.type === "track") {
    const trackId = pathSafe(body.track_id);
    return { values: { room_name: room, track_id: trackId }, fileIdentifier: trackId, roomIdentifier: room };
  }
  return { values: { room_name: room }, fileIdentifier: room, roomIdentifier: room };
}

const WHY_NOT: Record<PulseTemplate, string> = {
  room_name: "{room_name} has no value for a web egress",
  publisher_identity: "{publisher_identity} can only be used in a participant egress (Pulse cannot know a track's publisher when the egress starts; use {track_id} or a fixed path)",
  track_id: "{track_id} can only be used in a track egress",
};

/** True when LiveKit's cleaning would leave no file name: the path names a directory (or nothing). */
function namesOnlyDirectory(path: string): boolean {
  if (path.endsWith("/")) return true;
  return path.split("/").every((segment) => segment === "" || segment === ".");
}

type Expansion = { path: string } | { problem: string };

/**
 * `template` with Pulse's values filled in. `generatedName` is what LiveKit would call a file in a
 * bare directory (null where LiveKit takes the name from elsewhere).
 */
function expand(template: string, values: Partial<Record<PulseTemplate, string>>, generatedName: string | null): Expansion {
  let problem: string | null = null;
  let path = template.replace(PULSE_FILLED, (whole, name: PulseTemplate) => {
    const value = values[name];
    if (value === undefined) problem ??= WHY_NOT[name];
    return value ?? whole;
  });
  if (problem) return { problem };
  if (generatedName !== null && namesOnlyDirectory(path)) path = `${path}${path.endsWith("/") ? "" : "/"}${generatedName}-{time}`;
  // A template can only appear now if filling one spelled it out (`{{room_name}}` for a room named `time`).
  const spelled = path.match(PULSE_FILLED);
  if (spelled) return { problem: `Must not spell out ${spelled[0]} through another template's value` };
  // LiveKit's own values may be empty, so `.{room_id}.` could still become a parent segment.
  const couldBeDots = (segment: string) => LIVEKIT_FILLED.some((t) => segment.includes(t)) && /^\.{1,2}$/.test(LIVEKIT_FILLED.reduce((s, t) => s.replaceAll(t, ""), segment));
  if (path.split("/").some(couldBeDots)) return { problem: "Must not make a . or .. path segment out of templates" };
  return { path };
}

/**
 * The start body LiveKit gets: every output path with Pulse's templates filled and bare directories
 * given LiveKit's file name. Throws 400 `validation_failed` naming every path it cannot make safe.
 */
export function withExpandedPaths(body: StartEgressBody): StartEgressBody {
  const { values, fileIdentifier, roomIdentifier } = knownValues(body);
  const details: ErrorDetail[] = [];
  const fill = (field: string, template: string, generatedName: string | null): string => {
    const result = expand(template, values, generatedName);
    if ("problem" in result) {
      details.push({ path: field, message: result.problem });
      return template;
    }
    return result.path;
  };

  let expanded: StartEgressBody;
  if (body.type === "track") {
    expanded = body.file ? { ...body, file: { ...body.file, filepath: fill("file.filepath", body.file.filepath, fileIdentifier) } } : body;
  } else {
    expanded = {
      ...body,
      ...(body.file_outputs && {
        file_outputs: body.file_outputs.map((f, i) => ({ ...f, filepath: fill(`file_outputs.${i}.filepath`, f.filepath, fileIdentifier) })),
      }),
      ...(body.segment_outputs && {
        segment_outputs: body.segment_outputs.map((s, i) => {
          const filenamePrefix = fill(`segment_outputs.${i}.filename_prefix`, s.filename_prefix, null);
          // LiveKit names the playlist after the segment prefix, or after the room when both name only a directory.
          const prefixNamesFile = !namesOnlyDirectory(filenamePrefix);
          return {
            ...s,
            filename_prefix: filenamePrefix,
            playlist_name: fill(`segment_outputs.${i}.playlist_name`, s.playlist_name, prefixNamesFile ? null : roomIdentifier),
            ...(s.live_playlist_name !== undefined && { live_playlist_name: fill(`segment_outputs.${i}.live_playlist_name`, s.live_playlist_name, null) }),
          };
        }),
      }),
      ...(body.image_outputs && {
        image_outputs: body.image_outputs.map((o, i) => ({ ...o, filename_prefix: fill(`image_outputs.${i}.filename_prefix`, o.filename_prefix, null) })),
      }),
    };
  }
  const first = details[0];
  if (first) throw validationFailed(`Invalid request: ${first.path}: ${first.message}`, details);
  return expanded;
}
