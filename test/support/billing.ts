/** Billing fixtures: raw usage written the way metering writes it, and orgs on a plan. */
import { env } from "cloudflare:workers";
import { createDb } from "../../src/db/client";
import type { Meter } from "../../src/usage/meters";
import { usageEventInsert } from "../../src/usage/record";
import { call } from "./api";
import { createApiKey, createProject, type TestUser } from "./factories";

export const db = () => createDb(env.DB);

let source = 0;

/** One idempotent usage event, exactly as the metering code records it. */
export async function addUsage(t: { orgId: string; projectId: string }, meter: Meter, quantity: number, occurredAt: number) {
  await usageEventInsert(db(), { orgId: t.orgId, projectId: t.projectId, meter, quantity, occurredAt, sourceId: `billing-test-${source++}-${Math.random()}` });
}

/** An org (created at the test clock's now) with a project and an API key, optionally on `plan`. */
export async function orgOnPlan(owner: TestUser, plan: string, name = "Billing Co") {
  const org = await call("POST", "/v1/orgs", { token: owner.token, body: { name } });
  if (org.status !== 201) throw new Error(org.text);
  if (plan !== "free") {
    const res = await call("PUT", `/v1/orgs/${org.body.id}/plan`, { token: owner.token, body: { plan } });
    if (res.status !== 200) throw new Error(res.text);
  }
  const project = await createProject(owner, org.body.id);
  const key = await createApiKey(owner, project.id);
  return { orgId: org.body.id as string, projectId: project.id, key };
}
