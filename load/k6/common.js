// Shared by the k6 scenarios: target, key and the two requests measured (see load/README.md).
import http from "k6/http";
import { check } from "k6";

export const BASE_URL = (__ENV.BASE_URL || "http://127.0.0.1:8787").replace(/\/+$/, "");
const API_KEY = __ENV.PULSE_API_KEY;
if (!API_KEY) throw new Error("Set PULSE_API_KEY to a project API key with the tokens:write scope");

const tokenParams = {
  headers: { "Content-Type": "application/json", Authorization: `Bearer ${API_KEY}` },
  tags: { name: "POST /v1/tokens" },
  // 429 is an expected answer under load, not a failure of the request.
  responseCallback: http.expectedStatuses(201, 429),
};

export function health() {
  const res = http.get(`${BASE_URL}/health`, { tags: { name: "GET /health" } });
  check(res, { "health 200": (r) => r.status === 200 });
}

/** One token request; `expectAdmitted` makes a 429 fail the checks (soak runs under the limit). */
export function mintToken(expectAdmitted = false) {
  const body = JSON.stringify({ identity: `k6-${__VU}-${__ITER}`, room: __ENV.ROOM || "k6-room", grants: { can_publish: true } });
  const res = http.post(`${BASE_URL}/v1/tokens`, body, tokenParams);
  check(res, {
    "token 201 or 429": (r) => r.status === 201 || r.status === 429,
    "admitted when expected": (r) => !expectAdmitted || r.status === 201,
    // k6 canonicalises header names the Go way: RateLimit → Ratelimit.
    "rate limit headers present": (r) => r.headers["Ratelimit"] !== undefined && r.headers["Ratelimit-Policy"] !== undefined,
    "429 carries Retry-After": (r) => r.status !== 429 || r.headers["Retry-After"] !== undefined,
  });
}
