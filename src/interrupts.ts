/**
 * What an interrupted command must undo before it ends at once (a download's temporary folder): the
 * work that made it registers a cleanup here, and the CLI's one interrupt policy (src/cli/interrupt.ts)
 * runs every registered cleanup before the process ends. A root module, so that data/, runs/ and
 * eval/ can register without reaching up into cli/; it installs no signal listener itself (without
 * the CLI, the default action ends the process, and leftovers are removed by the next run).
 */
const cleanups = new Set<() => void>();

/** Registers `cleanup` until the returned function is called (the work finished or failed normally). */
export function onInterrupt(cleanup: () => void): () => void {
  cleanups.add(cleanup);
  return () => cleanups.delete(cleanup);
}

/** Runs (once) every registered cleanup; one that fails does not stop the others. */
export function runInterruptCleanups(): void {
  for (const cleanup of [...cleanups]) {
    cleanups.delete(cleanup);
    try {
      cleanup();
    } catch {
      // best effort at exit: what is left is removed by the next run (temp names carry host and pid)
    }
  }
}
