/**
 * Driving the dashboard from workerd tests like a browser would: HTML requests with cookies, the
 * CSRF token read from the page's forms, urlencoded POSTs that are not followed.
 */
import { BASE, dispatch, freshIp } from "./api";

export interface PageResponse {
  status: number;
  headers: Headers;
  html: string;
  location: string | null;
}

export class DashboardClient {
  readonly cookies = new Map<string, string>();
  /** Each client browses from an address of its own, so the per-IP limit of one test's forms never reaches another's. */
  readonly ip = freshIp();

  /** A client signed in with an existing session token (from the API's signup or login). */
  static signedIn(sessionToken: string): DashboardClient {
    const client = new DashboardClient();
    client.cookies.set("pulse_session", sessionToken);
    return client;
  }

  private cookieHeader() {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join("; ");
  }

  private remember(headers: Headers) {
    for (const line of headers.getSetCookie()) {
      const [pair, ...attrs] = line.split(";");
      const [name, ...rest] = pair!.split("=");
      const value = rest.join("=");
      const expired = attrs.some((a) => /max-age=0/i.test(a.trim()) || /expires=Thu, 01 Jan 1970/i.test(a.trim()));
      if (expired || value === "") this.cookies.delete(name!.trim());
      else this.cookies.set(name!.trim(), value);
    }
  }

  async request(method: string, path: string, body?: URLSearchParams, headers: Record<string, string> = {}): Promise<PageResponse> {
    const res = await dispatch(
      new Request(`${BASE}${path}`, {
        method,
        redirect: "manual",
        headers: {
          Accept: "text/html,application/xhtml+xml",
          "CF-Connecting-IP": this.ip,
          ...(this.cookies.size ? { Cookie: this.cookieHeader() } : {}),
          ...(body ? { "Content-Type": "application/x-www-form-urlencoded" } : {}),
          ...headers,
        },
        body: body?.toString(),
      }),
    );
    this.remember(res.headers);
    return { status: res.status, headers: res.headers, html: await res.text(), location: res.headers.get("Location") };
  }

  get(path: string) {
    return this.request("GET", path);
  }

  /** The CSRF token the dashboard put in its forms for this client. */
  async csrf(path = "/login"): Promise<string> {
    const page = await this.get(path);
    const token = /name="_csrf" value="([0-9a-f]+)"/.exec(page.html)?.[1];
    if (!token) throw new Error(`no CSRF token on ${path} (${page.status})`);
    return token;
  }

  /** POSTs a form with this client's CSRF token (unless `csrf` overrides it; null sends none). */
  async post(path: string, fields: Record<string, string | string[]> = {}, opts: { csrf?: string | null; from?: string } = {}) {
    const form = new URLSearchParams();
    const token = opts.csrf === undefined ? await this.csrf(opts.from) : opts.csrf;
    if (token !== null) form.set("_csrf", token);
    for (const [k, v] of Object.entries(fields)) for (const value of Array.isArray(v) ? v : [v]) form.append(k, value);
    return this.request("POST", path, form);
  }
}

/** True when the page has a form posting to `action`. */
export function hasForm(html: string, action: string): boolean {
  return html.includes(`action="${action}"`);
}
