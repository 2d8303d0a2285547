import { env } from "cloudflare:workers";
import { call } from "../support/api";

/** Sets the per-project override directly, as an operator would (there is no API for it yet). */
export async function setProjectLimit(projectId: string, perMinute: number | null) {
  await env.DB.prepare("UPDATE projects SET rate_limit_per_min = ? WHERE id = ?").bind(perMinute, projectId).run();
}

export const mintToken = (secret: string, i = 0) => call("POST", "/v1/tokens", { token: secret, body: { identity: `u${i}`, room: "r" } });

export function countStatuses(statuses: number[]) {
  const counts: Record<number, number> = {};
  for (const s of statuses) counts[s] = (counts[s] ?? 0) + 1;
  return counts;
}
