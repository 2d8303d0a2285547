/** @jsxImportSource hono/jsx */
/** The signed-in person's own account: who they are and their organizations. */
import { Hono } from "hono";
import { listOrgsOf } from "../orgs/service";
import { depsFor, type DashboardEnv } from "./context";
import { Layout } from "./layout";
import { page } from "./render";
import { signedIn, viewerOf } from "./shell";
import { Badge, Card, Table } from "./ui";

export const accountPages = new Hono<DashboardEnv>();
accountPages.use("/account", signedIn);
accountPages.use("/account/*", signedIn);

accountPages.get("/account", async (c) => {
  const viewer = viewerOf(c);
  const orgs = await listOrgsOf(depsFor(c), viewer.userId, { limit: 100 });
  const orgList = orgs.rows.map((r) => ({ id: r.org.id, name: r.org.name }));
  return page(
    c,
    <Layout c={c} shell={{ title: "Your account", section: "account", orgs: orgList }}>
      <Card title="Profile" id="profile">
        <dl class="kv">
          <dt>Name</dt>
          <dd>{viewer.name}</dd>
          <dt>Email</dt>
          <dd>
            {viewer.email} {viewer.emailVerified ? <Badge tone="ok">verified</Badge> : <Badge tone="warn">not verified</Badge>}
          </dd>
        </dl>
      </Card>
      <Card title="Organizations" id="orgs">
        <Table head={["Organization", "Your role"]} caption="Your organizations">
          {orgs.rows.map((r) => (
            <tr>
              <td class="cell-name">
                <a href={`/orgs/${r.org.id}`}>{r.org.name}</a>
              </td>
              <td>
                <Badge>{r.role}</Badge>
              </td>
            </tr>
          ))}
        </Table>
      </Card>
    </Layout>,
  );
});
