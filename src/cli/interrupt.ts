/**
 * The one interrupt policy of every long command (run, sweep, eval, data download, the image cache
 * build inside run). Ctrl-C (SIGINT) and SIGTERM (Slurm's scancel, a scheduler's preemption):
 * - commands with work to finish cleanly (run, sweep): the first signal asks the work to stop (the
 *   trainer abandons the current epoch, so metrics.csv and the checkpoint stay at the last finished
 *   epoch); a second one exits at once (after `onForce`, e.g. killing children);
 * - commands whose results are written whole as they go (eval, data download): the first signal
 *   says what is kept (`atOnce`) and ends the command.
 * Either way, cleanups registered with src/interrupts.ts (a download's temp folder) run first, every
 * display is stopped, and the exit status is 130.
 */
import { Interrupted } from '../errors.js';
import { runInterruptCleanups } from '../interrupts.js';

export interface Interrupt {
  signal: AbortSignal;
  dispose(): void;
  /**
   * Runs synchronous work that writes nothing (a dataset load) with the signals' default action:
   * no JS listener could run before it returns, so a Ctrl-C ends the process at once (exit 130)
   * instead of after the work. A stop asked for before it starts is honoured by not starting it.
   */
  atOnce<T>(work: () => T): Promise<T>;
}

/**
 * What draws on the terminal now (progress bars with their redraw timers, the sweep board). They
 * are stopped at an interrupt and at exit: a running bar's timer keeps Node alive after the work
 * stopped, and a bar left drawn hides the cursor and garbles the line the shell prints next.
 */
const displays = new Set<{ stop(): void }>();

/** Registers a display (until `endDisplay`); `stop` must be safe to call more than once. */
export function showDisplay(display: { stop(): void }): void {
  displays.add(display);
}

export function endDisplay(display: { stop(): void }): void {
  displays.delete(display);
}

/** Stops every display (its timer cleared, the cursor shown again). */
export function stopDisplays(): void {
  for (const d of [...displays]) {
    displays.delete(d);
    d.stop();
  }
}

let interrupted = false;

/** Whether a Ctrl-C or SIGTERM stopped the command: main then exits 130 even if a handle lingers. */
export function wasInterrupted(): boolean {
  return interrupted;
}

/**
 * `atOnce`: the command has nothing to finish cleanly (what it writes is written whole, or into a
 * temp folder its own listener removes), so the first signal ends it after saying `atOnce`.
 */
export function handleInterrupts(
  say: (line: string) => void,
  onForce: () => void = () => {},
  atOnce?: string,
): Interrupt {
  const controller = new AbortController();
  const handler = (sig: NodeJS.Signals) => {
    interrupted = true;
    stopDisplays();
    if (atOnce !== undefined) {
      say(`${sig}: ${atOnce}`);
      runInterruptCleanups();
      // Ended by the signal itself: exit status 128 + its number (130 for SIGINT).
      remove();
      process.kill(process.pid, sig);
      return;
    }
    if (!controller.signal.aborted) {
      say(`${sig}: stopping after the current step (press Ctrl-C again to exit at once)`);
      controller.abort();
      return;
    }
    onForce();
    runInterruptCleanups();
    process.exit(130);
  };
  const remove = () => {
    process.off('SIGINT', handler);
    process.off('SIGTERM', handler);
  };
  let listening = false;
  const add = () => {
    process.on('SIGINT', handler);
    process.on('SIGTERM', handler);
    listening = true;
  };
  const dispose = () => {
    remove();
    listening = false;
  };
  add();
  const loadingAtOnce = async <T>(work: () => T): Promise<T> => {
    // A signal that came before is handled first: its listener runs when the event loop polls, which
    // two check phases (setImmediate) always have between them.
    for (let i = 0; i < 2; i++) await new Promise((resolve) => setImmediate(resolve));
    if (controller.signal.aborted) throw new Interrupted('stopped before loading the data; nothing was trained');
    const wasListening = listening;
    remove();
    try {
      return work();
    } finally {
      if (wasListening) add();
    }
  };
  return { signal: controller.signal, dispose, atOnce: loadingAtOnce };
}
