/**
 * Usage by room and by identity (`group_by`), rolled up into `usage_dimension_rollups` in the same
 * batch and the same bounded, idempotent way as the per-project rollups (`rollup.ts`): an hour's
 * buckets recomputed from that hour's raw events, a day's buckets summed from its hour buckets,
 * the buckets replaced, so grouping keeps working after raw events are deleted. Usage without a
 * room (web egress) or identity (egress) has no group in that dimension.
 */
export const DIMENSIONS = ["room", "identity"] as const;
export type Dimension = (typeof DIMENSIONS)[number];

const HOUR_MS = 3600_000;
const DAY_MS = 24 * HOUR_MS;
const UPSERT = `ON CONFLICT (project_id, dimension, granularity, bucket_start, key, meter)
  DO UPDATE SET quantity = excluded.quantity, org_id = excluded.org_id, updated_at = excluded.updated_at`;

/** The hour starting at `hour` (ms), per room and per identity, from that hour's raw events. */
export function dimensionHourStatements(d1: D1Database, hour: number, at: number): D1PreparedStatement[] {
  // `dimension` is one of DIMENSIONS (a column name, never user input).
  return DIMENSIONS.map((dimension) =>
    d1
      .prepare(
        `INSERT INTO usage_dimension_rollups (project_id, org_id, dimension, key, meter, granularity, bucket_start, quantity, updated_at)
         SELECT project_id, org_id, '${dimension}', ${dimension}, meter, 'hour', ?1, SUM(quantity), ?2
         FROM usage_events
         WHERE occurred_at >= ?1 AND occurred_at < ?1 + ${HOUR_MS} AND ${dimension} IS NOT NULL
         GROUP BY project_id, org_id, ${dimension}, meter ${UPSERT}`,
      )
      .bind(hour, at),
  );
}

/** The day starting at `day` (ms), per room and per identity, summed from its hour buckets. */
export function dimensionDayStatements(d1: D1Database, day: number, at: number): D1PreparedStatement[] {
  return [
    d1
      .prepare(
        `INSERT INTO usage_dimension_rollups (project_id, org_id, dimension, key, meter, granularity, bucket_start, quantity, updated_at)
         SELECT project_id, org_id, dimension, key, meter, 'day', ?1, SUM(quantity), ?2
         FROM usage_dimension_rollups
         WHERE granularity = 'hour' AND bucket_start >= ?1 AND bucket_start < ?1 + ${DAY_MS}
         GROUP BY project_id, org_id, dimension, key, meter ${UPSERT}`,
      )
      .bind(day, at),
  ];
}
