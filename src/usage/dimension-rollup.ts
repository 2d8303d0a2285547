/**
 * Usage by room and by identity (`group_by`), rolled up into `usage_dimension_rollups` in the same
 * batch and the same idempotent way as the per-project rollups (recomputed from raw events, the
 * buckets replaced), so grouping keeps working after raw events are deleted. Usage without a room
 * (web egress) or identity (egress) has no group in that dimension.
 */
export const DIMENSIONS = ["room", "identity"] as const;
export type Dimension = (typeof DIMENSIONS)[number];

export function dimensionBuckets(
  d1: D1Database,
  w: { unit: number; granularity: "hour" | "day"; start: number; end: number; at: number },
): D1PreparedStatement[] {
  // `dimension` is one of DIMENSIONS (a column name, never user input).
  return DIMENSIONS.map((dimension) =>
    d1
      .prepare(
        `INSERT INTO usage_dimension_rollups (project_id, org_id, dimension, key, meter, granularity, bucket_start, quantity, updated_at)
         SELECT project_id, org_id, '${dimension}', ${dimension}, meter, ?1, (occurred_at / CAST(?2 AS INTEGER)) * CAST(?2 AS INTEGER) AS bucket, SUM(quantity), ?3
         FROM usage_events
         WHERE occurred_at >= ?4 AND occurred_at < ?5 AND ${dimension} IS NOT NULL
         GROUP BY project_id, org_id, ${dimension}, meter, bucket
         ON CONFLICT (project_id, dimension, granularity, bucket_start, key, meter)
         DO UPDATE SET quantity = excluded.quantity, org_id = excluded.org_id, updated_at = excluded.updated_at`,
      )
      .bind(w.granularity, w.unit, w.at, w.start, w.end),
  );
}
