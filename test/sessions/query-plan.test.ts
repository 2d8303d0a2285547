/**
 * The sessions list must answer from an index at any size: the plan is asserted on a small seeded
 * table after ANALYZE (the timing at a million rows is `npm run bench`'s job, not a unit test's).
 */
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { createDb } from "../../src/db/client";
import { encodeCursor } from "../../src/lib/pagination";
import { sessionListQuery } from "../../src/sessions/service";
import { createTenant } from "../support/factories";

let projectId: string;

beforeAll(async () => {
  const tenants = [await createTenant(), await createTenant()];
  projectId = tenants[0]!.project.id;
  const insert = env.DB.prepare(
    "INSERT INTO room_sessions (id, project_id, org_id, room, room_sid, started_at, ended_at, participant_count, peak_participants, participant_minutes, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, 1, 1, 1, ?, ?)",
  );
  const rows = [];
  for (const t of tenants) {
    for (let i = 0; i < 300; i++) {
      const at = Date.UTC(2026, 10, 1) + i * 60_000;
      rows.push(insert.bind(`rs_plan${t.project.id.slice(5, 12)}${i}`, t.project.id, t.org.id, `room-${i % 7}`, `RM_plan${t.project.id}${i}`, at, at + 1000, at, at));
    }
  }
  await env.DB.batch(rows);
  await env.DB.prepare("ANALYZE").run();
});

async function plan(query: Parameters<typeof sessionListQuery>[2]) {
  const { sql, params } = sessionListQuery(createDb(env.DB), projectId, query).toSQL();
  const { results } = await env.DB.prepare(`EXPLAIN QUERY PLAN ${sql}`).bind(...params).all<{ detail: string }>();
  return results.map((r) => r.detail);
}

function expectIndexed(lines: string[], index: string) {
  const sessionLines = lines.filter((l) => /\broom_sessions\b/.test(l));
  expect(sessionLines.length, lines.join("\n")).toBeGreaterThan(0);
  for (const line of sessionLines) expect(line, lines.join("\n")).toMatch(new RegExp(`^SEARCH room_sessions USING (COVERING )?INDEX ${index}`));
  // Newest first straight from the index: no sort of the whole project's rows.
  expect(lines.filter((l) => /TEMP B-TREE/.test(l)), lines.join("\n")).toEqual([]);
  // Egress minutes come from egresses' own index, per row of the page.
  for (const line of lines.filter((l) => /\begresses\b|\be\b USING/.test(l))) expect(line).toMatch(/^SEARCH e USING INDEX egresses_project_room_idx/);
  expect(lines.filter((l) => /^SCAN /.test(l)), lines.join("\n")).toEqual([]);
}

describe("the sessions list's query plan", () => {
  it("walks the project's started_at index, first page and later pages", async () => {
    expectIndexed(await plan({ limit: 20 }), "room_sessions_project_started_idx");
    expectIndexed(await plan({ limit: 20, cursor: encodeCursor({ t: Date.UTC(2026, 10, 1, 3), id: "rs_x" }) }), "room_sessions_project_started_idx");
    expectIndexed(await plan({ limit: 20, since: "2026-11-01T01:00:00Z", until: "2026-11-01T02:00:00Z" }), "room_sessions_project_started_idx");
  });

  it("walks the room index when filtering by room", async () => {
    expectIndexed(await plan({ limit: 20, room: "room-3" }), "room_sessions_project_room_started_idx");
    expectIndexed(await plan({ limit: 20, room: "room-3", cursor: encodeCursor({ t: Date.UTC(2026, 10, 1, 3), id: "rs_x" }) }), "room_sessions_project_room_started_idx");
  });
});
