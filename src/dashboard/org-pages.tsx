/** @jsxImportSource hono/jsx */
/**
 * Organization pages: the home redirect, creating an org, its projects, settings (rename, delete
 * with typed confirmation) and the team (members, roles, invitations). Each form exists only for
 * roles the API allows; each POST checks the role again through the same services.
 */
import { Hono } from "hono";
import { auditActor } from "../audit/record";
import { permissionToManage, ROLES, type Role } from "../authz/permissions";
import { acceptUrl } from "../invitations/token";
import { createInvitation, listPendingInvitations, revokeInvitation } from "../invitations/service";
import { changeMemberRole, listMembers, removeMember, type TeamActor } from "../members/service";
import { CreateOrgBody } from "../orgs/schemas";
import { createOrg, deleteOrg, findOrg, listOrgsOf, renameOrg } from "../orgs/service";
import { CreateProjectBody } from "../projects/schemas";
import { createProject, listProjects } from "../projects/service";
import { CreateInvitationBody } from "../invitations/schemas";
import { ApiError } from "../lib/errors";
import { asAppContext, depsFor, type DashboardEnv, type DashContext } from "./context";
import { confirmsName, formErrors, parseWith } from "./forms";
import { Layout } from "./layout";
import { page, redirectWith, verifiedForm } from "./render";
import { orgAction, orgPage, signedIn, viewerOf, type OrgPage } from "./shell";
import { ActionButton, Badge, Button, Card, DangerZone, DataTable, Empty, Field, FormError, KeyValues, PostForm, RenameCard, Select, Time, type FieldErrors } from "./ui";

export const orgPages = new Hono<DashboardEnv>();
orgPages.use("/orgs/*", signedIn);

const audit = (c: DashContext) => auditActor(asAppContext(c));

orgPages.get("/", async (c) => {
  const viewer = c.var.viewer;
  if (!viewer) return c.redirect("/login", 303);
  const orgs = await listOrgsOf(depsFor(c), viewer.userId, { limit: 1 });
  const first = orgs.rows[0];
  return c.redirect(first ? `/orgs/${first.org.id}` : "/orgs/new", 303);
});

// ---- create an org -------------------------------------------------------------------------

async function newOrgPage(c: DashContext, values: { name?: string } = {}, errors: FieldErrors = {}, status: 200 | 400 = 200) {
  const viewer = viewerOf(c);
  const orgs = await listOrgsOf(depsFor(c), viewer.userId, { limit: 100 });
  return page(
    c,
    <Layout c={c} shell={{ title: "New organization", orgs: orgs.rows.map((r) => ({ id: r.org.id, name: r.org.name })) }}>
      <Card>
        <p class="muted">An organization holds your projects, your team and your plan. You become its owner.</p>
        <PostForm action="/orgs/new" csrf={c.var.csrfToken}>
          <Field label="Organization name" name="name" value={values.name} error={errors.name ?? errors._form} required autofocus maxlength={200} />
          <Button>Create organization</Button>
        </PostForm>
      </Card>
    </Layout>,
    status,
  );
}

orgPages.get("/orgs/new", (c) => newOrgPage(c));

orgPages.post("/orgs/new", async (c) => {
  const form = await verifiedForm(c);
  const name = form.get("name") ?? "";
  const parsed = parseWith(CreateOrgBody, { name });
  if (!parsed.ok) return newOrgPage(c, { name }, parsed.errors, 400);
  try {
    const org = await createOrg(depsFor(c), { userId: viewerOf(c).userId, audit: audit(c) }, parsed.data);
    return redirectWith(c, `/orgs/${org.id}`, { notice: "Organization created. Create its first project." });
  } catch (error) {
    const errors = formErrors(error, "name");
    if (!errors) throw error;
    return newOrgPage(c, { name }, errors, 400);
  }
});

// ---- projects ------------------------------------------------------------------------------

async function projectsPage(c: DashContext, orgId: string, values: { name?: string } = {}, errors: FieldErrors = {}, status: 200 | 400 = 200) {
  const ctx = await orgPage(c, orgId, "project:read");
  const projects = await listProjects(depsFor(c), orgId, { limit: 100 });
  return page(
    c,
    <Layout c={c} shell={ctx.shell("Projects", "projects")}>
      {ctx.may("project:create") ? (
        <Card title="New project" id="new-project">
          <PostForm action={`/orgs/${orgId}/projects`} csrf={c.var.csrfToken} class="form-row">
            <Field label="Project name" name="name" value={values.name} error={errors.name ?? errors._form} required maxlength={200} placeholder="Video app (production)" />
            <div class="field form-actions">
              <Button>Create project</Button>
            </div>
          </PostForm>
        </Card>
      ) : null}
      <Card title="All projects" id="projects">
        <DataTable
          caption="Projects"
          rows={projects.rows}
          empty={<Empty title="No projects yet">{ctx.may("project:create") ? "Create one above to get API keys and mint tokens." : "An admin of this organization can create one."}</Empty>}
          columns={[
            { head: "Name", class: "cell-name", cell: (p) => <a href={`/projects/${p.id}`}>{p.name}</a> },
            { head: "Id", cell: (p) => <code>{p.id}</code> },
            { head: "Created", cell: (p) => <Time at={p.createdAt} /> },
          ]}
        />
      </Card>
    </Layout>,
    status,
  );
}

orgPages.get("/orgs/:org_id", (c) => projectsPage(c, c.req.param("org_id")));

orgPages.post("/orgs/:org_id/projects", async (c) => {
  const { form, ctx } = await orgAction(c, "project:create");
  const orgId = ctx.orgId;
  const name = form.get("name") ?? "";
  const parsed = parseWith(CreateProjectBody, { name });
  if (!parsed.ok) return projectsPage(c, orgId, { name }, parsed.errors, 400);
  try {
    const project = await createProject(depsFor(c), audit(c), orgId, parsed.data);
    return redirectWith(c, `/projects/${project.id}`, { notice: "Project created. Create an API key for your server." });
  } catch (error) {
    const errors = formErrors(error, "name");
    if (!errors) throw error;
    return projectsPage(c, orgId, { name }, errors, 400);
  }
});

// ---- settings ------------------------------------------------------------------------------

async function settingsPage(c: DashContext, orgId: string, errors: FieldErrors = {}, status: 200 | 400 = 200) {
  const ctx = await orgPage(c, orgId, "org:read");
  const org = await findOrg(depsFor(c), orgId);
  return page(
    c,
    <Layout c={c} shell={ctx.shell("Settings", "settings")}>
      <Card title="Organization" id="org">
        <KeyValues
          items={[
            ["Name", org.name],
            ["Id", <code>{org.id}</code>],
            ["Plan", <a href={`/orgs/${orgId}/billing`}>{org.planId}</a>],
            ["Your role", <Badge tone="info">{ctx.role}</Badge>],
            ["Created", <Time at={org.createdAt} />],
          ]}
        />
      </Card>
      {ctx.may("org:update") ? <RenameCard action={`/orgs/${orgId}/rename`} csrf={c.var.csrfToken} label="New name" value={org.name} error={errors.name} /> : null}
      {ctx.may("org:delete") ? (
        <DangerZone
          title="Delete organization"
          action={`/orgs/${orgId}/delete`}
          csrf={c.var.csrfToken}
          text="Deleting revokes every API key and webhook endpoint of its projects at once and stops their recordings and inputs in LiveKit. It cannot be undone."
          confirm="Delete this organization and everything in it?"
          button="Delete organization"
          typed={{ label: "Type the organization's name to confirm", value: org.name, error: errors.confirm }}
        />
      ) : null}
    </Layout>,
    status,
  );
}

orgPages.get("/orgs/:org_id/settings", (c) => settingsPage(c, c.req.param("org_id")));

orgPages.post("/orgs/:org_id/rename", async (c) => {
  const { form, ctx } = await orgAction(c, "org:update");
  const orgId = ctx.orgId;
  const parsed = parseWith(CreateOrgBody, { name: form.get("name") ?? "" });
  if (!parsed.ok) return settingsPage(c, orgId, parsed.errors, 400);
  await renameOrg(depsFor(c), audit(c), orgId, parsed.data);
  return redirectWith(c, `/orgs/${orgId}/settings`, { notice: "Organization renamed." });
});

orgPages.post("/orgs/:org_id/delete", async (c) => {
  const { form, ctx } = await orgAction(c, "org:delete");
  const orgId = ctx.orgId;
  const org = await findOrg(depsFor(c), orgId);
  if (!confirmsName(form.get("confirm"), org.name)) {
    return settingsPage(c, orgId, { confirm: "Type the organization's name exactly as shown." }, 400);
  }
  await deleteOrg(depsFor(c), audit(c), orgId);
  return redirectWith(c, "/", { notice: `Organization “${org.name}” deleted.` });
});

// ---- team ----------------------------------------------------------------------------------

function teamActor(c: DashContext, ctx: OrgPage): TeamActor {
  return { userId: ctx.viewer.userId, role: ctx.role, audit: audit(c) };
}

const roleOptions = (allowed: Role[]) => [...ROLES].reverse().filter((r) => allowed.includes(r)).map((r) => ({ value: r, label: r }));

/** Roles the viewer may grant: admins up to admin, owners everything (`permissionToManage`). */
function grantable(ctx: OrgPage, base: "member:write" | "invitation:write"): Role[] {
  return ROLES.filter((r) => ctx.may(permissionToManage(r, base)));
}

async function teamPage(c: DashContext, orgId: string, invite: { values?: Record<string, string>; errors?: FieldErrors } = {}, status: 200 | 400 | 409 = 200) {
  const ctx = await orgPage(c, orgId, "member:read");
  const [members, invitations] = await Promise.all([
    listMembers(c.var.db, orgId, { limit: 100 }),
    ctx.may("invitation:read") ? listPendingInvitations(c.var.db, orgId, { limit: 100 }) : Promise.resolve({ rows: [], nextCursor: null }),
  ]);
  const e = invite.errors ?? {};
  const memberRoles = grantable(ctx, "member:write");
  const inviteRoles = grantable(ctx, "invitation:write");
  const csrf = c.var.csrfToken;
  const mayChange = (m: { userId: string; role: Role }) => m.userId !== ctx.viewer.userId && ctx.may(permissionToManage(m.role));
  return page(
    c,
    <Layout c={c} shell={ctx.shell("Team", "team")}>
      {ctx.may("invitation:write") ? (
        <Card title="Invite someone" id="invite">
          <PostForm action={`/orgs/${orgId}/invitations`} csrf={csrf}>
            <FormError errors={e} />
            <div class="form-row">
              <Field label="Email" name="email" type="email" value={invite.values?.email} error={e.email} required />
              <Select label="Role" name="role" value={invite.values?.role ?? "member"} options={roleOptions(inviteRoles)} error={e.role} />
              <Field label="Expires in (days)" name="expires_in_days" type="number" min="1" max="30" value={invite.values?.expires_in_days ?? "7"} error={e.expires_in_days} />
            </div>
            <Button>Create invitation</Button>
          </PostForm>
          <p class="hint">The invitation link is shown once, right after you create it.</p>
        </Card>
      ) : null}
      <Card title="Members" id="members">
        <DataTable
          caption="Members"
          rows={members.rows}
          rowKey={(m) => m.userId}
          columns={[
            { head: "Name", class: "cell-name", cell: (m) => <>{m.name} {m.userId === ctx.viewer.userId ? <Badge tone="info">you</Badge> : null}</> },
            { head: "Email", cell: (m) => m.email },
            {
              head: "Role",
              cell: (m) =>
                mayChange(m) ? (
                  <PostForm action={`/orgs/${orgId}/members/${m.userId}/role`} csrf={csrf} class="actions" label={`Role of ${m.email}`}>
                    <label class="sr-only" for={`role-${m.userId}`}>
                      Role of {m.email}
                    </label>
                    <select id={`role-${m.userId}`} name="role">
                      {roleOptions(memberRoles).map((o) => (
                        <option value={o.value} selected={o.value === m.role}>
                          {o.label}
                        </option>
                      ))}
                    </select>
                    <Button kind="secondary" small>
                      Change
                    </Button>
                  </PostForm>
                ) : (
                  <Badge tone={m.role === "owner" ? "info" : "muted"}>{m.role}</Badge>
                ),
            },
            { head: "Joined", cell: (m) => <Time at={m.createdAt} /> },
            {
              head: <span class="sr-only">Actions</span>,
              cell: (m) =>
                m.userId === ctx.viewer.userId ? (
                  <ActionButton action={`/orgs/${orgId}/members/${m.userId}/remove`} csrf={csrf} label="Leave" kind="danger" small confirm="Leave this organization? You lose access at once." />
                ) : mayChange(m) ? (
                  <ActionButton
                    action={`/orgs/${orgId}/members/${m.userId}/remove`}
                    csrf={csrf}
                    label="Remove"
                    formLabel={`Remove ${m.email}`}
                    kind="danger"
                    small
                    confirm={`Remove ${m.email} from this organization?`}
                  />
                ) : null,
            },
          ]}
        />
      </Card>
      {ctx.may("invitation:read") ? (
        <Card title="Pending invitations" id="invitations">
          <DataTable
            caption="Pending invitations"
            rows={invitations.rows}
            empty={<Empty title="No pending invitations" />}
            columns={[
              { head: "Email", class: "cell-name", cell: (i) => i.email },
              { head: "Role", cell: (i) => <Badge>{i.role}</Badge> },
              { head: "Expires", cell: (i) => <Time at={i.expiresAt} /> },
              {
                head: <span class="sr-only">Actions</span>,
                cell: (i) =>
                  ctx.may(permissionToManage(i.role, "invitation:write")) ? (
                    <ActionButton
                      action={`/orgs/${orgId}/invitations/${i.id}/revoke`}
                      csrf={csrf}
                      label="Revoke"
                      formLabel={`Revoke the invitation for ${i.email}`}
                      kind="danger"
                      small
                      confirm={`Revoke the invitation for ${i.email}?`}
                    />
                  ) : null,
              },
            ]}
          />
        </Card>
      ) : null}
    </Layout>,
    status,
  );
}

orgPages.get("/orgs/:org_id/team", (c) => teamPage(c, c.req.param("org_id")));

orgPages.post("/orgs/:org_id/invitations", async (c) => {
  const { form, ctx } = await orgAction(c, "invitation:write");
  const orgId = ctx.orgId;
  const values = { email: form.get("email") ?? "", role: form.get("role") ?? "member", expires_in_days: form.get("expires_in_days") ?? "7" };
  const parsed = parseWith(CreateInvitationBody, { ...values, expires_in_days: Number(values.expires_in_days) });
  if (!parsed.ok) return teamPage(c, orgId, { values, errors: parsed.errors }, 400);
  try {
    const { token } = await createInvitation(c.var.db, teamActor(c, ctx), orgId, parsed.data, c.var.config.limits);
    return redirectWith(c, `/orgs/${orgId}/team`, {
      notice: `Invitation created for ${parsed.data.email}.`,
      secret: { label: "Invitation link", value: acceptUrl(c.var.config.publicUrl, token), hint: "Send this link to them. It is shown only now; it works once, for that email address." },
    });
  } catch (error) {
    const errors = formErrors(error, "email") ?? (error instanceof ApiError && error.code === "forbidden" ? { role: error.message } : null);
    if (!errors) throw error;
    return teamPage(c, orgId, { values, errors }, 400);
  }
});

orgPages.post("/orgs/:org_id/invitations/:inv_id/revoke", async (c) => {
  const { form, ctx } = await orgAction(c, "invitation:write");
  const orgId = ctx.orgId;
  await revokeInvitation(c.var.db, teamActor(c, ctx), orgId, c.req.param("inv_id"));
  return redirectWith(c, `/orgs/${orgId}/team`, { notice: "Invitation revoked." });
});

orgPages.post("/orgs/:org_id/members/:user_id/role", async (c) => {
  const { form, ctx } = await orgAction(c, "member:write");
  const orgId = ctx.orgId;
  const role = form.get("role") ?? "";
  if (!(ROLES as readonly string[]).includes(role)) return redirectWith(c, `/orgs/${orgId}/team`, { error: "Choose one of the roles listed." });
  try {
    const member = await changeMemberRole(c.var.db, teamActor(c, ctx), orgId, c.req.param("user_id"), role as Role);
    return redirectWith(c, `/orgs/${orgId}/team`, { notice: `${member.email} is now ${member.role}.` });
  } catch (error) {
    if (error instanceof ApiError && error.code === "conflict") return redirectWith(c, `/orgs/${orgId}/team`, { error: error.message });
    throw error;
  }
});

orgPages.post("/orgs/:org_id/members/:user_id/remove", async (c) => {
  const targetId = c.req.param("user_id");
  const leaving = targetId === viewerOf(c).userId;
  const { ctx } = await orgAction(c, leaving ? "member:read" : "member:write");
  const orgId = ctx.orgId;
  try {
    await removeMember(c.var.db, teamActor(c, ctx), orgId, targetId);
  } catch (error) {
    if (error instanceof ApiError && error.code === "conflict") return redirectWith(c, `/orgs/${orgId}/team`, { error: error.message });
    throw error;
  }
  return leaving ? redirectWith(c, "/", { notice: "You left the organization." }) : redirectWith(c, `/orgs/${orgId}/team`, { notice: "Member removed." });
});
