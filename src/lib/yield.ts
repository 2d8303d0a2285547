/**
 * Lets the isolate take other work between a job's steps (one transaction of a rollup, one page
 * of a cleanup). A job that sends D1 statement after statement may never wait on anything but D1;
 * in the local runtime D1 answers from the same process, and workerd then accepts no new request
 * until the job ends: `npm run bench` saw every LiveKit webhook unanswered for the 3–5 s of a
 * rollup run. A 0 ms timer makes the event loop poll for them once per step. Deployed, D1 is
 * across the network, and a step's statements cost far more than the timer.
 */
export function yieldToOtherWork(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}
