/**
 * Tenant isolation on the shared LiveKit deployment: every room a tenant names is namespaced on the
 * wire as `<project_id>:<room>`. Project ids never contain `:`, so the text before the first `:` is
 * always the owning project, whatever the tenant's room name contains (colons, look-alike unicode,
 * anything): a tenant can only ever produce names inside its own prefix.
 */
export const ROOM_SEPARATOR = ":";
export const MAX_ROOM_NAME_LENGTH = 128;

export function namespacedRoom(projectId: string, room: string): string {
  return `${projectId}${ROOM_SEPARATOR}${room}`;
}

/** Splits a LiveKit room name into its project and the tenant's own name; null if not ours. */
export function parseNamespacedRoom(name: string): { projectId: string; room: string } | null {
  const at = name.indexOf(ROOM_SEPARATOR);
  if (at <= 0) return null;
  const projectId = name.slice(0, at);
  if (!/^proj_[0-9A-Za-z]+$/.test(projectId)) return null;
  return { projectId, room: name.slice(at + 1) };
}

/** The tenant's room name if `name` belongs to `projectId`, else null. */
export function roomOfProject(name: string, projectId: string): string | null {
  const parsed = parseNamespacedRoom(name);
  return parsed && parsed.projectId === projectId ? parsed.room : null;
}
