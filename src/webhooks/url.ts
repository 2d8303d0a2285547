/**
 * Which URLs an endpoint may point at. Always http(s), no embedded credentials. When private URLs
 * are not allowed (always in production): https only, and never a local or private host
 * (`isPrivateHost`, the one check egress and ingress destinations use too). (A public hostname that
 * resolves to a private address cannot be checked from its text; Workers' `fetch` itself cannot
 * reach private networks.)
 */
import { isPrivateHost } from "../lib/private-address";

export const MAX_URL_LENGTH = 2048;

/** null when `raw` is acceptable, else the reason it is not (a sentence for the API error). */
export function webhookUrlProblem(raw: string, allowPrivate: boolean): string | null {
  if (raw.length > MAX_URL_LENGTH) return `Must be at most ${MAX_URL_LENGTH} characters`;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return "Must be an absolute http(s) URL";
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") return "Must use http or https";
  if (url.username || url.password) return "Must not contain credentials";
  if (allowPrivate) return null;
  if (url.protocol !== "https:") return "Must use https";
  if (isPrivateHost(url.hostname)) return "Must not point at a local or private network address";
  return null;
}
