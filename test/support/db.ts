/** Direct D1 reads for assertions (what the API does not show, or must not have left behind). */
import { env } from "cloudflare:workers";

export async function rows<T = Record<string, any>>(sql: string, ...binds: unknown[]) {
  return (await env.DB.prepare(sql).bind(...binds).all()).results as T[];
}

/** Rows a refused egress or ingress request must not have left: records of the kind and their audit entries. */
export async function leftovers(kind: "egress" | "ingress", projectId: string): Promise<number> {
  const table = kind === "egress" ? "egresses" : "ingresses";
  const [records] = await rows<{ n: number }>(`SELECT COUNT(*) AS n FROM ${table} WHERE project_id = ?`, projectId);
  const [audits] = await rows<{ n: number }>("SELECT COUNT(*) AS n FROM audit_logs WHERE project_id = ? AND action LIKE ?", projectId, `${kind}.%`);
  return records!.n + audits!.n;
}
