/** @jsxImportSource hono/jsx */
/**
 * A usage chart drawn on the server as SVG: one bar per bucket, the running total as a line,
 * and the plan's included quota as a dashed line, with labelled axes and a `<title>` tooltip per
 * bucket. Presentation attributes only (no inline styles), so it renders under the strict CSP.
 */

export interface ChartPoint {
  start: string;
  value: number;
}

const W = 640;
const H = 240;
const PAD = { left: 52, right: 14, top: 16, bottom: 38 };

/** A round axis maximum at or above `max` (1, 2, 2.5, 5 × 10^n). */
export function niceMax(max: number): number {
  if (max <= 0) return 1;
  const exp = Math.pow(10, Math.floor(Math.log10(max)));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * exp >= max) return m * exp;
  return 10 * exp;
}

const fmt = (n: number) => (n >= 10_000 ? `${Math.round(n / 1000)}k` : Number.isInteger(n) ? String(n) : n.toFixed(1));

function bucketLabel(iso: string, granularity: "hour" | "day") {
  return granularity === "hour" ? `${iso.slice(5, 10)} ${iso.slice(11, 13)}h` : iso.slice(5, 10);
}

export function UsageChart(p: { title: string; unit: string; points: ChartPoint[]; granularity: "hour" | "day"; quota: number | null; id: string }) {
  const totals: number[] = [];
  let running = 0;
  for (const pt of p.points) totals.push((running += pt.value));
  const top = niceMax(Math.max(running, p.quota ?? 0, ...p.points.map((pt) => pt.value)) * 1.05);
  const innerW = W - PAD.left - PAD.right;
  const innerH = H - PAD.top - PAD.bottom;
  const n = Math.max(p.points.length, 1);
  const step = innerW / n;
  const y = (v: number) => PAD.top + innerH - (v / top) * innerH;
  const ticks = [0, 0.25, 0.5, 0.75, 1].map((f) => f * top);
  const labelEvery = Math.max(1, Math.ceil(n / 8));
  const line = totals.map((t, i) => `${i === 0 ? "M" : "L"}${(PAD.left + step * (i + 0.5)).toFixed(1)},${y(t).toFixed(1)}`).join(" ");
  return (
    <figure class="chart-figure">
      <svg class="chart" id={p.id} viewBox={`0 0 ${W} ${H}`} role="img" aria-labelledby={`${p.id}-title`}>
        <title id={`${p.id}-title`}>{`${p.title}: ${fmt(running)} ${p.unit} in this range`}</title>
        {ticks.map((t) => (
          <g>
            <line class="grid-line" x1={PAD.left} x2={W - PAD.right} y1={y(t)} y2={y(t)} stroke="#ececf4" />
            <text x={PAD.left - 8} y={y(t) + 4} text-anchor="end">
              {fmt(t)}
            </text>
          </g>
        ))}
        {p.points.map((pt, i) => {
          const h = (pt.value / top) * innerH;
          const x = PAD.left + step * i;
          return (
            <g class="bucket">
              <rect class="bar" x={x + step * 0.15} y={PAD.top + innerH - h} width={Math.max(step * 0.7, 1)} height={h} fill="#7b7be6" rx={step > 8 ? 2 : 0} />
              <rect x={x} y={PAD.top} width={step} height={innerH} fill="transparent">
                <title>{`${pt.start}: ${fmt(pt.value)} ${p.unit} (running total ${fmt(totals[i]!)})`}</title>
              </rect>
              {i % labelEvery === 0 ? (
                <text x={x + step / 2} y={H - PAD.bottom + 16} text-anchor="middle">
                  {bucketLabel(pt.start, p.granularity)}
                </text>
              ) : null}
            </g>
          );
        })}
        {p.points.length > 0 ? <path d={line} fill="none" stroke="#1b1b29" stroke-width="1.5" class="running" /> : null}
        {p.quota !== null && p.quota > 0 ? (
          <g>
            <line class="quota" x1={PAD.left} x2={W - PAD.right} y1={y(p.quota)} y2={y(p.quota)} stroke="#c4283c" stroke-dasharray="6 4" stroke-width="1.5" />
            <text x={W - PAD.right} y={y(p.quota) - 5} text-anchor="end" fill="#c4283c">
              {`included: ${fmt(p.quota)}`}
            </text>
          </g>
        ) : null}
        <line x1={PAD.left} x2={W - PAD.right} y1={PAD.top + innerH} y2={PAD.top + innerH} stroke="#c9c9d8" />
        <text x={PAD.left + innerW / 2} y={H - 4} text-anchor="middle">
          {p.granularity === "hour" ? "hour (UTC)" : "day (UTC)"}
        </text>
        <text x={12} y={PAD.top + innerH / 2} text-anchor="middle" transform={`rotate(-90 12 ${PAD.top + innerH / 2})`}>
          {p.unit}
        </text>
      </svg>
      <figcaption class="legend">
        <span>
          <span class="swatch" aria-hidden="true" />
          per {p.granularity}
        </span>
        <span>— running total</span>
        {p.quota !== null && p.quota > 0 ? (
          <span>
            <span class="swatch swatch-quota" aria-hidden="true" />
            plan's monthly included quota
          </span>
        ) : null}
      </figcaption>
    </figure>
  );
}
