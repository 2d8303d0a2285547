/** @jsxImportSource hono/jsx */
/**
 * A project's usage: totals and a chart per meter (participant, egress and ingress minutes,
 * tokens) by hour or day over a chosen range, with the plan's included quota.
 */
import { Hono } from "hono";
import { orgPlan } from "../billing/plans";
import { ApiError } from "../lib/errors";
import { nowMs, toIso } from "../lib/clock";
import { usageRange, usageSeries } from "../usage/service";
import { METER_NAMES, METERS, type Meter } from "../usage/meters";
import { UsageChart } from "./chart";
import type { DashboardEnv } from "./context";
import { Layout } from "./layout";
import { page } from "./render";
import { projectPage, signedIn } from "./shell";
import { Button, Card, Select } from "./ui";

export const usagePages = new Hono<DashboardEnv>();
usagePages.use("/projects/*", signedIn);

/** The chart's unit: minutes or tokens (METERS' `units` names the meter too, for sentences). */
const unitOf = (m: Meter) => (m === "tokens_issued" ? "tokens" : "minutes");

const RANGES = {
  "24h": { label: "Last 24 hours", ms: 24 * 3600_000, granularity: "hour" },
  "7d": { label: "Last 7 days", ms: 7 * 86_400_000, granularity: "day" },
  "30d": { label: "Last 30 days", ms: 30 * 86_400_000, granularity: "day" },
  month: { label: "This month", ms: 0, granularity: "day" },
} as const;
type RangeKey = keyof typeof RANGES;

usagePages.get("/projects/:project_id/usage", async (c) => {
  const ctx = await projectPage(c, c.req.param("project_id"), "usage:read");
  const asked = c.req.query("range") ?? "";
  const rangeKey = (Object.hasOwn(RANGES, asked) ? asked : "month") as RangeKey;
  const range = RANGES[rangeKey];
  const granularity = c.req.query("granularity") === "hour" ? "hour" : c.req.query("granularity") === "day" ? "day" : range.granularity;
  const at = nowMs();
  let query: { since?: string; until?: string; granularity: "hour" | "day" } = { granularity };
  if (range.ms > 0) query = { since: toIso(at - range.ms), until: toIso(at), granularity };
  let usage;
  try {
    usage = await usageSeries(c.var.db, { projectId: ctx.projectId }, usageRange(query));
  } catch (error) {
    // Hourly buckets over a long range exceed the API's bucket limit: fall back to days.
    if (!(error instanceof ApiError) || error.code !== "validation_failed") throw error;
    usage = await usageSeries(c.var.db, { projectId: ctx.projectId }, usageRange({ ...query, granularity: "day" }));
  }
  const plan = await orgPlan(c.var.db, ctx.orgId);
  return page(
    c,
    <Layout c={c} shell={ctx.shell("Usage", "usage")}>
      <Card>
        <form method="get" action={`/projects/${ctx.projectId}/usage`} class="filters" aria-label="Usage range">
          <Select label="Range" name="range" value={rangeKey} options={Object.entries(RANGES).map(([value, r]) => ({ value, label: r.label }))} />
          <Select
            label="Granularity"
            name="granularity"
            value={usage.granularity}
            options={[
              { value: "day", label: "By day" },
              { value: "hour", label: "By hour" },
            ]}
          />
          <div class="field">
            <Button kind="secondary">Show</Button>
          </div>
        </form>
        <p class="muted small">
          {usage.since.slice(0, 16).replace("T", " ")} to {usage.until.slice(0, 16).replace("T", " ")} UTC{plan ? `, ${plan.name} plan` : ""}.
        </p>
      </Card>
      <div class="grid grid-4" id="usage-totals">
        {METER_NAMES.map((m) => (
          <div class="stat">
            <p class="stat-label">{METERS[m].label}</p>
            <p class="stat-value" data-meter={m}>
              {usage.totals[m].toLocaleString("en-US")}
            </p>
            <p class="stat-sub">{plan ? `${plan.included[m].toLocaleString("en-US")} included per month` : ""}</p>
          </div>
        ))}
      </div>
      <div class="grid grid-2">
        {METER_NAMES.map((m) => (
          <Card title={METERS[m].label} id={`card-${m}`}>
            <UsageChart
              id={`chart-${m}`}
              title={METERS[m].label}
              unit={unitOf(m)}
              granularity={usage.granularity}
              quota={plan ? plan.included[m] : null}
              points={usage.series.map((s) => ({ start: s.start, value: s[m] }))}
            />
          </Card>
        ))}
      </div>
    </Layout>,
  );
});
