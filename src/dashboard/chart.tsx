/** @jsxImportSource hono/jsx */
/**
 * A usage chart drawn on the server as SVG: one bar per bucket, the running total as a line,
 * and the plan's included quota as a dashed line, with labelled axes and a `<title>` tooltip per
 * bucket. The axis follows the data: a quota far above it would flatten the bars to nothing, so
 * it is drawn only when the usage comes within a quarter of it; the meter below always says how
 * much of it is used. Presentation attributes only (no inline styles), so it renders under the
 * strict CSP.
 */

export interface ChartPoint {
  start: string;
  value: number;
}

const W = 520;
const H = 250;
const PAD = { left: 56, right: 12, top: 20, bottom: 42 };

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
  const dataMax = Math.max(running, ...p.points.map((pt) => pt.value));
  const quotaOnScale = p.quota !== null && p.quota > 0 && dataMax * 4 >= p.quota;
  // Counts are whole numbers: a small axis goes up in whole steps (four gridlines).
  const nice = niceMax(Math.max(dataMax, quotaOnScale ? p.quota! : 0) * 1.08);
  const top = nice <= 20 ? Math.max(4, Math.ceil(nice / 4) * 4) : nice;
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
        {quotaOnScale ? (
          <g>
            <line class="quota" x1={PAD.left} x2={W - PAD.right} y1={y(p.quota!)} y2={y(p.quota!)} stroke="#c4283c" stroke-dasharray="6 4" stroke-width="1.5" />
            <text x={W - PAD.right} y={y(p.quota!) - 5} text-anchor="end" fill="#c4283c">
              {`included: ${fmt(p.quota!)}`}
            </text>
          </g>
        ) : null}
        <line x1={PAD.left} x2={W - PAD.right} y1={PAD.top + innerH} y2={PAD.top + innerH} stroke="#c9c9d8" />
        <text x={PAD.left + innerW / 2} y={H - 4} text-anchor="middle">
          {p.granularity === "hour" ? "hour (UTC)" : "day (UTC)"}
        </text>
        <text x={14} y={PAD.top + innerH / 2} text-anchor="middle" transform={`rotate(-90 14 ${PAD.top + innerH / 2})`}>
          {p.unit}
        </text>
      </svg>
      <figcaption class="legend">
        <span>
          <span class="swatch" aria-hidden="true" />
          per {p.granularity}
        </span>
        <span>— running total</span>
        {quotaOnScale ? (
          <span>
            <span class="swatch swatch-quota" aria-hidden="true" />
            plan's monthly included quota
          </span>
        ) : null}
      </figcaption>
      {p.quota !== null && p.quota > 0 ? <QuotaMeter used={running} included={p.quota} unit={p.unit} /> : null}
    </figure>
  );
}

/** How much of the plan's monthly included quantity this range used. */
function QuotaMeter(p: { used: number; included: number; unit: string }) {
  const share = p.used / p.included;
  const percent = share >= 0.1 ? Math.round(share * 100) : Math.round(share * 1000) / 10;
  const width = Math.min(100, Math.max(share > 0 ? 1 : 0, Math.round(share * 100)));
  return (
    <div>
      <div class="meter-bar" role="meter" aria-valuemin={0} aria-valuemax={p.included} aria-valuenow={p.used} aria-label="Share of the included quota">
        <div class={share > 1 ? `meter-fill over w-${width}` : `meter-fill w-${width}`} />
      </div>
      <p class="meter-text">
        {`${fmt(p.used)} of ${p.included.toLocaleString("en-US")} ${p.unit} included per month (${percent}%)`}
      </p>
    </div>
  );
}
