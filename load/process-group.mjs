// Stopping a server the bench started: `wrangler dev` runs in its own process group (spawned
// detached), so the group gets SIGTERM, then SIGKILL if it is still there after 5 s.
export function stopProcessGroup(child) {
  if (child.exitCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once("exit", () => resolve());
    try {
      process.kill(-child.pid, "SIGTERM");
    } catch {
      resolve();
    }
    setTimeout(() => {
      try {
        process.kill(-child.pid, "SIGKILL");
      } catch {
        // already gone
      }
    }, 5_000).unref();
  });
}
