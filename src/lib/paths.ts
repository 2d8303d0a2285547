/**
 * The JSON API lives under `/v1`, `/health`, `/metrics` and `/twirp`; every other path belongs to
 * the dashboard, which answers HTML. The API's envelope, headers and body rules apply only to the former.
 */
export function isApiPath(path: string): boolean {
  return path === "/v1" || path.startsWith("/v1/") || path === "/health" || path === "/metrics" || path.startsWith("/twirp/");
}
