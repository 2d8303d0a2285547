/**
 * Resolving what a page shows around itself (the viewer's orgs, the current org or project) and
 * whether the viewer may see it at all: the same access checks and permission table as the API,
 * so another tenant's id is 404 and a role below the page's permission is 403.
 */
import type { MiddlewareHandler } from "hono";
import { requireOrgAccess, requireProjectAccess } from "../authz/access";
import { can, type Permission, type Role } from "../authz/permissions";
import { findOrg, listOrgsOf } from "../orgs/service";
import { listProjects } from "../projects/service";
import { depsFor, type DashboardEnv, type DashContext, type Viewer } from "./context";
import type { Shell } from "./layout";
import { verifiedForm } from "./render";

/** Signed-out visitors of a signed-in page go to the login page, and come back after. */
export const signedIn: MiddlewareHandler<DashboardEnv> = async (c, next) => {
  if (!c.var.viewer) {
    const url = new URL(c.req.url);
    const back = c.req.method === "GET" ? url.pathname + url.search : "/";
    return c.redirect(`/login?next=${encodeURIComponent(back)}`, 303);
  }
  await next();
};

export function viewerOf(c: DashContext): Viewer {
  const viewer = c.var.viewer;
  if (!viewer) throw new Error("signedIn middleware missing");
  return viewer;
}

export interface OrgPage {
  viewer: Viewer;
  orgId: string;
  role: Role;
  may: (permission: Permission) => boolean;
  shell: (title: string, section: string) => Shell;
}

/** The frame of a page inside `orgId`: the org switcher's list, the current org and the viewer's role in it. */
async function frameOf(c: DashContext, viewer: Viewer, orgId: string, role: Role, extra: Pick<Shell, "projects" | "project">) {
  const deps = depsFor(c);
  const [org, orgs] = await Promise.all([findOrg(deps, orgId), listOrgsOf(deps, viewer.userId, { limit: 100 })]);
  return (title: string, section: string): Shell => ({
    title,
    section,
    org: { id: org.id, name: org.name, role },
    orgs: orgs.rows.map((r) => ({ id: r.org.id, name: r.org.name })),
    ...extra,
  });
}

export async function orgPage(c: DashContext, orgId: string, permission: Permission): Promise<OrgPage> {
  const viewer = viewerOf(c);
  const access = await requireOrgAccess(c.var.db, viewer.userId, orgId, permission);
  c.set("orgId", orgId);
  const projects = await listProjects(depsFor(c), orgId, { limit: 20 });
  const shell = await frameOf(c, viewer, orgId, access.role, { projects: projects.rows.map((p) => ({ id: p.id, name: p.name })) });
  return { viewer, orgId, role: access.role, may: (p) => can(access.role, p), shell };
}

export interface ProjectPage extends OrgPage {
  projectId: string;
  project: { id: string; orgId: string; name: string };
  tenant: { projectId: string; orgId: string };
}

export async function projectPage(c: DashContext, projectId: string, permission: Permission): Promise<ProjectPage> {
  const viewer = viewerOf(c);
  const db = c.var.db;
  const access = await requireProjectAccess(db, viewer.userId, projectId, permission);
  c.set("orgId", access.orgId);
  c.set("projectId", projectId);
  const project = access.project;
  const shell = await frameOf(c, viewer, access.orgId, access.role, { project: { id: project.id, name: project.name } });
  return {
    viewer,
    orgId: access.orgId,
    projectId,
    project: { id: project.id, orgId: project.orgId, name: project.name },
    tenant: { projectId, orgId: access.orgId },
    role: access.role,
    may: (p) => can(access.role, p),
    shell,
  };
}

/**
 * A form posted on a project page: the CSRF check comes first (403 for a forged form), then the
 * viewer's access to the project (404 for another tenant's) and role (403 below `permission`).
 */
export async function projectAction(c: DashContext, permission: Permission): Promise<{ form: URLSearchParams; ctx: ProjectPage }> {
  const form = await verifiedForm(c);
  const ctx = await projectPage(c, c.req.param("project_id") ?? "", permission);
  return { form, ctx };
}

/** The same for a form posted on an org page. */
export async function orgAction(c: DashContext, permission: Permission): Promise<{ form: URLSearchParams; ctx: OrgPage }> {
  const form = await verifiedForm(c);
  const ctx = await orgPage(c, c.req.param("org_id") ?? "", permission);
  return { form, ctx };
}
