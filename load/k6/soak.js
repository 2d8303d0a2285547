// Soak: a modest constant rate for a long time, under the project limit, to surface leaks, a
// growing limiter window or slow drift in latency. Every request should be a 201.
// k6 run -e BASE_URL=… -e PULSE_API_KEY=… -e DURATION=1h load/k6/soak.js
import { mintToken } from "./common.js";

const RATE = Number(__ENV.RATE || 10); // per second: 600/min, under the default 1000/min
const DURATION = __ENV.DURATION || "30m";

export const options = {
  scenarios: {
    soak: { executor: "constant-arrival-rate", rate: RATE, timeUnit: "1s", duration: DURATION, preAllocatedVUs: 10, maxVUs: 100 },
  },
  thresholds: {
    "http_req_failed{name:POST /v1/tokens}": ["rate<0.001"],
    "http_req_duration{name:POST /v1/tokens}": ["p(95)<300", "p(99)<800"],
    // Under the limit nothing should be refused.
    checks: ["rate>0.999"],
  },
};

export default function () {
  mintToken(true);
}
