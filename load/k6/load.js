// Steady load: constant arrival rate of token requests with a /health floor alongside.
// k6 run -e BASE_URL=https://pulse.example.com -e PULSE_API_KEY=pulse_live_… load/k6/load.js
import { health, mintToken } from "./common.js";

const RATE = Number(__ENV.RATE || 15); // token requests per second: 900/min, under the default 1000/min
const DURATION = __ENV.DURATION || "2m";

export const options = {
  scenarios: {
    tokens: { executor: "constant-arrival-rate", exec: "tokens", rate: RATE, timeUnit: "1s", duration: DURATION, preAllocatedVUs: 20, maxVUs: 200 },
    health: { executor: "constant-arrival-rate", exec: "floor", rate: RATE, timeUnit: "1s", duration: DURATION, preAllocatedVUs: 20, maxVUs: 200 },
  },
  thresholds: {
    "http_req_failed{name:POST /v1/tokens}": ["rate<0.01"],
    "http_req_duration{name:POST /v1/tokens}": ["p(99)<500"],
    "http_req_duration{name:GET /health}": ["p(99)<200"],
  },
};

export function tokens() {
  mintToken(false);
}
export const floor = health;
