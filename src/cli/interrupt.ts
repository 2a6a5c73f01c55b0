/**
 * Ctrl-C (SIGINT) and SIGTERM (Slurm's scancel, a scheduler's preemption): the first asks the work
 * to stop cleanly (the trainer abandons the current epoch, so metrics.csv and the checkpoint stay
 * at the last finished epoch); a second one exits at once (after `onForce`, e.g. killing children).
 */
export interface Interrupt {
  signal: AbortSignal;
  dispose(): void;
}

export function handleInterrupts(say: (line: string) => void, onForce: () => void = () => {}): Interrupt {
  const controller = new AbortController();
  const handler = (sig: NodeJS.Signals) => {
    if (!controller.signal.aborted) {
      say(
        `${sig}: stopping after the current step; the last finished epoch stays checkpointed (press Ctrl-C again to exit at once)`,
      );
      controller.abort();
      return;
    }
    onForce();
    process.exit(130);
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
  return {
    signal: controller.signal,
    dispose: () => {
      process.off('SIGINT', handler);
      process.off('SIGTERM', handler);
    },
  };
}
