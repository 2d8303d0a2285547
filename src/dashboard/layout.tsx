/** @jsxImportSource hono/jsx */
/**
 * The page frame: top bar with the org switcher and the account menu, a sidebar with the org's
 * and the current project's sections, the flash, and the page. Signed-out pages use `AuthLayout`.
 * Scripts are one same-origin file loaded with this response's CSP nonce; styles one stylesheet.
 */
import type { Child, PropsWithChildren } from "hono/jsx";
import type { Role } from "../authz/permissions";
import type { DashContext, Flash } from "./context";
import { PostForm, SecretOnce } from "./ui";

export interface ShellOrg {
  id: string;
  name: string;
  role: Role;
}

export interface Shell {
  title: string;
  orgs?: { id: string; name: string }[];
  org?: ShellOrg;
  projects?: { id: string; name: string }[];
  project?: { id: string; name: string };
  /** The active sidebar entry. */
  section?: string;
}

function Head(p: { title: string; nonce: string }) {
  return (
    <head>
      <meta charset="utf-8" />
      <meta name="viewport" content="width=device-width, initial-scale=1" />
      <meta name="referrer" content="no-referrer" />
      <title>{`${p.title} · Pulse`}</title>
      <link rel="stylesheet" href="/assets/app.css" />
      <link rel="icon" href="/assets/favicon.svg" type="image/svg+xml" />
      <script src="/assets/app.js" nonce={p.nonce} defer></script>
    </head>
  );
}

function Logo() {
  return (
    <svg class="logo" viewBox="0 0 24 24" width="22" height="22" aria-hidden="true">
      <rect width="24" height="24" rx="6" fill="#5b5bd6" />
      <path d="M4 13h3.5l2-5 3 9 2.5-6 1.5 2H20" fill="none" stroke="#fff" stroke-width="2" stroke-linecap="round" stroke-linejoin="round" />
    </svg>
  );
}

export function FlashMessages(p: { flash: Flash | null }) {
  const f = p.flash;
  if (!f) return null;
  return (
    <div class="flashes">
      {f.notice ? (
        <p class="flash flash-ok" role="status">
          {f.notice}
        </p>
      ) : null}
      {f.error ? (
        <p class="flash flash-bad" role="alert">
          {f.error}
        </p>
      ) : null}
      {f.secret ? <SecretOnce label={f.secret.label} value={f.secret.value} hint={f.secret.hint} /> : null}
    </div>
  );
}

function NavLink(p: { href: string; active: boolean; children: Child }) {
  return (
    <li>
      <a href={p.href} aria-current={p.active ? "page" : undefined} class={p.active ? "active" : undefined}>
        {p.children}
      </a>
    </li>
  );
}

function Sidebar(p: { shell: Shell }) {
  const { org, project, section, projects } = p.shell;
  if (!org) return null;
  const o = `/orgs/${org.id}`;
  return (
    <aside class="sidebar">
      <nav aria-label="Organization">
        <p class="nav-title">Organization</p>
        <ul>
          <NavLink href={o} active={section === "projects"}>Projects</NavLink>
          <NavLink href={`${o}/team`} active={section === "team"}>Team</NavLink>
          <NavLink href={`${o}/billing`} active={section === "billing"}>Plan &amp; billing</NavLink>
          <NavLink href={`${o}/audit`} active={section === "audit"}>Audit log</NavLink>
          <NavLink href={`${o}/settings`} active={section === "settings"}>Settings</NavLink>
        </ul>
      </nav>
      {project ? (
        <nav aria-label="Project">
          <p class="nav-title" title={project.name}>
            {project.name}
          </p>
          <ul>
            <NavLink href={`/projects/${project.id}`} active={section === "overview"}>Overview</NavLink>
            <NavLink href={`/projects/${project.id}/keys`} active={section === "keys"}>API keys</NavLink>
            <NavLink href={`/projects/${project.id}/livekit-keys`} active={section === "livekit-keys"}>LiveKit keys</NavLink>
            <NavLink href={`/projects/${project.id}/playground`} active={section === "playground"}>Token playground</NavLink>
            <NavLink href={`/projects/${project.id}/rooms`} active={section === "rooms"}>Rooms</NavLink>
            <NavLink href={`/projects/${project.id}/webhooks`} active={section === "webhooks"}>Webhooks</NavLink>
            <NavLink href={`/projects/${project.id}/usage`} active={section === "usage"}>Usage</NavLink>
            <NavLink href={`/projects/${project.id}/egress`} active={section === "egress"}>Egress</NavLink>
            <NavLink href={`/projects/${project.id}/ingress`} active={section === "ingress"}>Ingress</NavLink>
          </ul>
        </nav>
      ) : projects && projects.length > 0 ? (
        <nav aria-label="Projects">
          <p class="nav-title">Projects</p>
          <ul>
            {projects.slice(0, 8).map((pr) => (
              <NavLink href={`/projects/${pr.id}`} active={false}>{pr.name}</NavLink>
            ))}
          </ul>
        </nav>
      ) : null}
    </aside>
  );
}

function OrgSwitcher(p: { shell: Shell }) {
  const { org, orgs } = p.shell;
  return (
    <details class="switcher">
      <summary aria-label="Switch organization">
        <span class="switcher-name">{org ? org.name : "Organizations"}</span>
        {org ? <span class="switcher-role">{org.role}</span> : null}
      </summary>
      <div class="switcher-menu">
        <ul>
          {(orgs ?? []).map((o) => (
            <li>
              <a href={`/orgs/${o.id}`} aria-current={org?.id === o.id ? "true" : undefined}>
                {o.name}
              </a>
            </li>
          ))}
        </ul>
        <a class="switcher-new" href="/orgs/new">
          + New organization
        </a>
      </div>
    </details>
  );
}

/** A signed-in page. */
export function Layout(p: PropsWithChildren<{ c: DashContext; shell: Shell; actions?: Child }>) {
  const { c, shell } = p;
  const viewer = c.var.viewer;
  return (
    <html lang="en">
      <Head title={shell.title} nonce={c.var.nonce} />
      <body>
        <a class="skip" href="#main">
          Skip to content
        </a>
        <header class="topbar">
          <a class="brand" href="/">
            <Logo />
            <span>Pulse</span>
          </a>
          <OrgSwitcher shell={shell} />
          <div class="topbar-right">
            <a href="/account" class="account-link" aria-current={shell.section === "account" ? "page" : undefined}>
              {viewer?.name ?? "Account"}
            </a>
            <PostForm action="/logout" csrf={c.var.csrfToken} class="inline">
              <button type="submit" class="btn btn-ghost btn-sm">
                Sign out
              </button>
            </PostForm>
          </div>
        </header>
        {viewer && !viewer.emailVerified ? (
          <p class="banner" role="status">
            Confirm your email address: we sent a link to <strong>{viewer.email}</strong>.
          </p>
        ) : null}
        <div class={shell.org ? "shell" : "shell no-sidebar"}>
          <Sidebar shell={shell} />
          <main id="main" tabindex={-1}>
            <div class="page-head">
              <h1>{shell.title}</h1>
              {p.actions ? <div class="page-actions">{p.actions}</div> : null}
            </div>
            <FlashMessages flash={c.var.flash} />
            {p.children}
          </main>
        </div>
      </body>
    </html>
  );
}

/** A signed-out page: one centred card. */
export function AuthLayout(p: PropsWithChildren<{ c: DashContext; title: string; subtitle?: Child }>) {
  return (
    <html lang="en">
      <Head title={p.title} nonce={p.c.var.nonce} />
      <body class="auth">
        <main id="main" class="auth-main">
          <a class="brand brand-lg" href="/">
            <Logo />
            <span>Pulse</span>
          </a>
          <div class="auth-card">
            <h1>{p.title}</h1>
            {p.subtitle ? <p class="muted">{p.subtitle}</p> : null}
            <FlashMessages flash={p.c.var.flash} />
            {p.children}
          </div>
        </main>
      </body>
    </html>
  );
}
