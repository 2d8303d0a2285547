// Spike: idle → a sudden burst far above the project's limit → idle. Shows 429s with Retry-After
// during the burst and full recovery once the sliding window has emptied (≥ 60 s after it).
// k6 run -e BASE_URL=… -e PULSE_API_KEY=… load/k6/spike.js
import { mintToken } from "./common.js";

const PEAK = Number(__ENV.PEAK || 500); // requests per second at the top of the spike

export const options = {
  scenarios: {
    spike: {
      executor: "ramping-arrival-rate",
      startRate: 5,
      timeUnit: "1s",
      preAllocatedVUs: 50,
      maxVUs: 1000,
      stages: [
        { target: 5, duration: "30s" },
        { target: PEAK, duration: "10s" },
        { target: PEAK, duration: "30s" },
        { target: 5, duration: "10s" },
        { target: 5, duration: "90s" },
      ],
    },
  },
  thresholds: {
    // Only 201 and 429 count as expected; anything else (5xx, timeouts) fails the run.
    "http_req_failed{name:POST /v1/tokens}": ["rate<0.01"],
    "http_req_duration{name:POST /v1/tokens}": ["p(99)<1000"],
  },
};

export default function () {
  mintToken(false);
}
