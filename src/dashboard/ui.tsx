/** @jsxImportSource hono/jsx */
/**
 * Small building blocks every page uses: labelled fields with their error beside them, POST forms
 * with the CSRF token, buttons, badges, tables and empty states. JSX escapes every value, so tenant
 * text is shown exactly as stored and can never become markup.
 */
import type { Child, PropsWithChildren } from "hono/jsx";
import { typeable } from "./forms";
import { CSRF_FIELD } from "./session";

export type FieldErrors = Record<string, string | undefined>;

interface FieldProps {
  label: string;
  name: string;
  type?: string;
  value?: string | null;
  error?: string;
  hint?: Child;
  required?: boolean;
  autocomplete?: string;
  placeholder?: string;
  min?: string;
  max?: string;
  minlength?: number;
  maxlength?: number;
  autofocus?: boolean;
  /** Typed confirmation: the form's submit button stays disabled until this exact text is typed. */
  confirmText?: string;
}

/** A labelled input; its error (if any) sits right under it and is tied to it for screen readers. */
export function Field(p: FieldProps) {
  const id = `f-${p.name.replace(/[^a-z0-9_-]/gi, "-")}`;
  const described = [p.hint ? `${id}-hint` : "", p.error ? `${id}-error` : ""].filter(Boolean).join(" ") || undefined;
  return (
    <div class={p.error ? "field has-error" : "field"}>
      <label for={id}>{p.label}</label>
      <input
        id={id}
        name={p.name}
        type={p.type ?? "text"}
        value={p.value ?? undefined}
        required={p.required}
        autocomplete={p.autocomplete}
        placeholder={p.placeholder}
        min={p.min}
        max={p.max}
        minlength={p.minlength}
        maxlength={p.maxlength}
        autofocus={p.autofocus}
        data-confirm-text={p.confirmText}
        aria-invalid={p.error ? "true" : undefined}
        aria-describedby={described}
      />
      {p.hint ? <p class="hint" id={`${id}-hint`}>{p.hint}</p> : null}
      {p.error ? <p class="error" id={`${id}-error`} role="alert">{p.error}</p> : null}
    </div>
  );
}

export function TextArea(p: Omit<FieldProps, "type"> & { rows?: number }) {
  const id = `f-${p.name}`;
  return (
    <div class={p.error ? "field has-error" : "field"}>
      <label for={id}>{p.label}</label>
      <textarea id={id} name={p.name} rows={p.rows ?? 3} aria-invalid={p.error ? "true" : undefined} aria-describedby={p.error ? `${id}-error` : undefined}>
        {/* The HTML parser drops one newline right after <textarea>: this one, not the value's own. */}
        {"\n" + (p.value ?? "")}
      </textarea>
      {p.hint ? <p class="hint">{p.hint}</p> : null}
      {p.error ? <p class="error" id={`${id}-error`} role="alert">{p.error}</p> : null}
    </div>
  );
}

export function Select(p: { label: string; name: string; options: { value: string; label: string }[]; value?: string; error?: string; hint?: Child }) {
  const id = `f-${p.name}`;
  return (
    <div class={p.error ? "field has-error" : "field"}>
      <label for={id}>{p.label}</label>
      <select id={id} name={p.name} aria-invalid={p.error ? "true" : undefined} aria-describedby={p.error ? `${id}-error` : undefined}>
        {p.options.map((o) => (
          <option value={o.value} selected={o.value === p.value}>
            {o.label}
          </option>
        ))}
      </select>
      {p.hint ? <p class="hint">{p.hint}</p> : null}
      {p.error ? <p class="error" id={`${id}-error`} role="alert">{p.error}</p> : null}
    </div>
  );
}

/** A group of checkboxes (scopes, grants, event types); the error belongs to the whole group. */
export function Checkboxes(p: { legend: string; name: string; options: { value: string; label: string; hint?: string }[]; checked: string[]; error?: string; hint?: Child }) {
  return (
    <fieldset class={p.error ? "field checks has-error" : "field checks"}>
      <legend>{p.legend}</legend>
      {p.hint ? <p class="hint">{p.hint}</p> : null}
      <div class="check-grid">
        {p.options.map((o) => (
          <label class="check">
            <input type="checkbox" name={p.name} value={o.value} checked={p.checked.includes(o.value)} />
            <span>{o.label}</span>
          </label>
        ))}
      </div>
      {p.error ? <p class="error" role="alert">{p.error}</p> : null}
    </fieldset>
  );
}

/** A POST form with the CSRF token; `confirm` asks before submitting (destructive actions). */
export function PostForm(p: PropsWithChildren<{ action: string; csrf: string; confirm?: string; class?: string; label?: string }>) {
  return (
    <form method="post" action={p.action} class={p.class} data-confirm={p.confirm} aria-label={p.label}>
      <input type="hidden" name={CSRF_FIELD} value={p.csrf} />
      {p.children}
    </form>
  );
}

export function Button(p: PropsWithChildren<{ kind?: "primary" | "secondary" | "danger" | "ghost"; type?: "submit" | "button"; disabled?: boolean; small?: boolean; attrs?: Record<string, string> }>) {
  const cls = ["btn", `btn-${p.kind ?? "primary"}`, p.small ? "btn-sm" : ""].filter(Boolean).join(" ");
  return (
    <button type={p.type ?? "submit"} class={cls} disabled={p.disabled} {...(p.attrs ?? {})}>
      {p.children}
    </button>
  );
}

export function Badge(p: PropsWithChildren<{ tone?: "ok" | "warn" | "bad" | "info" | "muted" }>) {
  return <span class={`badge badge-${p.tone ?? "muted"}`}>{p.children}</span>;
}

export function Card(p: PropsWithChildren<{ title?: Child; actions?: Child; id?: string; class?: string }>) {
  return (
    <section class={["card", p.class].filter(Boolean).join(" ")} id={p.id} aria-labelledby={p.title && p.id ? `${p.id}-title` : undefined}>
      {p.title || p.actions ? (
        <header class="card-head">
          {p.title ? <h2 id={p.id ? `${p.id}-title` : undefined}>{p.title}</h2> : null}
          {p.actions ? <div class="card-actions">{p.actions}</div> : null}
        </header>
      ) : null}
      {p.children}
    </section>
  );
}

export function Empty(p: PropsWithChildren<{ title: string }>) {
  return (
    <div class="empty">
      <p class="empty-title">{p.title}</p>
      {p.children ? <p class="muted">{p.children}</p> : null}
    </div>
  );
}

/** A table that scrolls sideways on narrow screens instead of breaking the layout. */
export function Table(p: PropsWithChildren<{ head: Child[]; caption?: string }>) {
  return (
    <div class="table-wrap" tabindex={0} role="region" aria-label={p.caption ?? "Table"}>
      <table>
        {p.caption ? <caption class="sr-only">{p.caption}</caption> : null}
        <thead>
          <tr>
            {p.head.map((h) => (
              <th scope="col">{h}</th>
            ))}
          </tr>
        </thead>
        <tbody>{p.children}</tbody>
      </table>
    </div>
  );
}

/** A secret shown exactly once, with a copy button (the page that shows it deleted its only copy). */
export function SecretOnce(p: { label: string; value: string; hint?: string }) {
  return (
    <div class="secret" role="status">
      <p class="secret-title">{p.label}</p>
      <p class="muted">{p.hint ?? "Copy it now: Pulse does not keep it and will not show it again."}</p>
      <div class="secret-row">
        <code id="secret-value" class="secret-value">{p.value}</code>
        <button type="button" class="btn btn-secondary btn-sm" data-copy="#secret-value">
          Copy
        </button>
      </div>
    </div>
  );
}

/** Time as UTC, machine-readable in `datetime`. */
export function Time(p: { at: number | string | null | undefined }) {
  if (p.at === null || p.at === undefined) return <span class="muted">—</span>;
  const d = new Date(p.at);
  const iso = d.toISOString();
  return (
    <time datetime={iso} title={iso}>
      {iso.slice(0, 16).replace("T", " ")} UTC
    </time>
  );
}

/** Cursor paging links: back to the newest page, and on to older entries when there are more. */
export function Pager(p: { newest?: string | null; older?: string | null }) {
  if (!p.newest && !p.older) return null;
  return (
    <p class="pager">
      {p.newest ? <a href={p.newest}>← Newest</a> : <span />}
      {p.older ? <a href={p.older}>Older →</a> : null}
    </p>
  );
}

/** The link to the next (older) page of a keyset list, or null on the last page. */
export function olderLink(base: string, nextCursor: string | null | undefined, query: Record<string, string | undefined> = {}): string | null {
  if (!nextCursor) return null;
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v) params.set(k, v);
  params.set("cursor", nextCursor);
  return `${base}?${params}`;
}

/** One column of a `DataTable`: its header and how a row fills its cell. */
export interface Column<T> {
  head: Child;
  cell: (row: T) => Child;
  class?: string;
}

/**
 * A list as data: columns and rows, with the empty state when there are none, so each page only
 * says what its columns are.
 */
export function DataTable<T>(p: { caption: string; columns: Column<T>[]; rows: T[]; empty?: Child; rowKey?: (row: T) => string }) {
  if (p.rows.length === 0 && p.empty) return <>{p.empty}</>;
  return (
    <Table head={p.columns.map((col) => col.head)} caption={p.caption}>
      {p.rows.map((row) => (
        <tr data-row={p.rowKey?.(row)}>
          {p.columns.map((col) => (
            <td class={col.class}>{col.cell(row)}</td>
          ))}
        </tr>
      ))}
    </Table>
  );
}

/** A one-button POST form (revoke, remove, retry, stop…); `confirm` asks first. */
export function ActionButton(p: {
  action: string;
  csrf: string;
  label: Child;
  kind?: "primary" | "secondary" | "danger" | "ghost";
  small?: boolean;
  confirm?: string;
  disabled?: boolean;
  inline?: boolean;
  /** Hidden fields sent with the button. */
  fields?: Record<string, string>;
  /** The form's accessible name, when the button's text alone is ambiguous in a table. */
  formLabel?: string;
}) {
  return (
    <PostForm action={p.action} csrf={p.csrf} confirm={p.confirm} class={p.inline ? "inline" : undefined} label={p.formLabel}>
      {Object.entries(p.fields ?? {}).map(([name, value]) => (
        <input type="hidden" name={name} value={value} />
      ))}
      <Button kind={p.kind ?? "secondary"} small={p.small} disabled={p.disabled} attrs={p.formLabel ? { "aria-label": p.formLabel } : undefined}>
        {p.label}
      </Button>
    </PostForm>
  );
}

/** A definition list from `[label, value]` pairs; falsy entries are left out. */
export function KeyValues(p: { items: ([string, Child] | null | false | undefined)[] }) {
  return (
    <dl class="kv">
      {p.items
        .filter((item): item is [string, Child] => Boolean(item))
        .map(([label, value]) => (
          <>
            <dt>{label}</dt>
            <dd>{value ?? <span class="muted">—</span>}</dd>
          </>
        ))}
    </dl>
  );
}

/** The "Rename" card of an org or project settings page. */
export function RenameCard(p: { action: string; csrf: string; label: string; value: string; error?: string }) {
  return (
    <Card title="Rename" id="rename">
      <PostForm action={p.action} csrf={p.csrf} class="form-row">
        <Field label={p.label} name="name" value={p.value} error={p.error} required maxlength={200} />
        <div class="field form-actions">
          <Button kind="secondary">Save name</Button>
        </div>
      </PostForm>
    </Card>
  );
}

/**
 * A destructive action in its own card. With `typed`, the form asks for the exact text (a name)
 * and the button stays disabled until it is typed; the server checks it again.
 */
export function DangerZone(p: {
  title: string;
  id?: string;
  action: string;
  csrf: string;
  text: Child;
  confirm: string;
  button: string;
  typed?: { label: string; value: string; error?: string };
}) {
  return (
    <Card title={p.title} id={p.id ?? "delete"} class="danger-zone">
      <p class="muted">{p.text}</p>
      <PostForm action={p.action} csrf={p.csrf} confirm={p.confirm}>
        {p.typed ? (
          <Field
            label={p.typed.label}
            name="confirm"
            error={p.typed.error}
            required
            autocomplete="off"
            confirmText={typeable(p.typed.value)}
            hint={
              <>
                Exactly: <code>{typeable(p.typed.value)}</code>
              </>
            }
          />
        ) : null}
        <Button kind="danger">{p.button}</Button>
      </PostForm>
    </Card>
  );
}

/**
 * The token of an emailed link, from `?token=` (rendered here) or `#token=` (browsers never send
 * the fragment; the page's script moves it into this field and hides the hint). `missing` says
 * what to do when neither brought one.
 */
export function LinkToken(p: { token: string; missing: string }) {
  return (
    <>
      <input type="hidden" name="token" value={p.token} data-fragment-token="" />
      {p.token ? null : (
        <p class="error" data-fragment-hint="">
          {p.missing}
        </p>
      )}
    </>
  );
}

/** The one error of a form that belongs to no single field. */
export function FormError(p: { errors: FieldErrors }) {
  return p.errors._form ? (
    <p class="error" role="alert">
      {p.errors._form}
    </p>
  ) : null;
}

/** A badge for a LiveKit status name (`EGRESS_ACTIVE`, `ENDPOINT_ERROR`, …). */
export function StatusBadge(p: { status: string }) {
  const s = p.status;
  const tone = /FAILED|ERROR|ABORTED|LIMIT/.test(s) ? "bad" : /ACTIVE|PUBLISHING|COMPLETE/.test(s) ? "ok" : /STARTING|ENDING|BUFFERING|INACTIVE/.test(s) ? "warn" : "muted";
  return <Badge tone={tone}>{s}</Badge>;
}
