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

export async function orgPage(c: DashContext, orgId: string, permission: Permission): Promise<OrgPage> {
  const viewer = viewerOf(c);
  const db = c.var.db;
  const access = await requireOrgAccess(db, viewer.userId, orgId, permission);
  c.set("orgId", orgId);
  const deps = depsFor(c);
  const [org, orgs, projects] = await Promise.all([findOrg(deps, orgId), listOrgsOf(deps, viewer.userId, { limit: 100 }), listProjects(deps, orgId, { limit: 20 })]);
  return {
    viewer,
    orgId,
    role: access.role,
    may: (p) => can(access.role, p),
    shell: (title, section) => ({
      title,
      section,
      org: { id: org.id, name: org.name, role: access.role },
      orgs: orgs.rows.map((r) => ({ id: r.org.id, name: r.org.name })),
      projects: projects.rows.map((p) => ({ id: p.id, name: p.name })),
    }),
  };
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
  const deps = depsFor(c);
  const [org, orgs] = await Promise.all([findOrg(deps, access.orgId), listOrgsOf(deps, viewer.userId, { limit: 100 })]);
  const project = access.project;
  return {
    viewer,
    orgId: access.orgId,
    projectId,
    project: { id: project.id, orgId: project.orgId, name: project.name },
    tenant: { projectId, orgId: access.orgId },
    role: access.role,
    may: (p) => can(access.role, p),
    shell: (title, section) => ({
      title,
      section,
      org: { id: org.id, name: org.name, role: access.role },
      orgs: orgs.rows.map((r) => ({ id: r.org.id, name: r.org.name })),
      project: { id: project.id, name: project.name },
    }),
  };
}
