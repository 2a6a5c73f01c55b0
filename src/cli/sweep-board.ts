/**
 * A local sweep's live view on a terminal: one line per running trial (its epoch and latest
 * accuracy, read from the trial's metrics.csv) under a total bar, redrawn in place once a second;
 * worker messages scroll above it. Off a terminal the sweep prints its plain log lines instead.
 */
import { formatSeconds } from './console-sink.js';
import type { TrialOutcome, TrialWatcher } from '../sweep/local.js';
import type { Trial } from '../sweep/trials.js';
import { readMetrics } from '../runs/files.js';
import { endDisplay, showDisplay } from './interrupt.js';

export interface RunningTrial {
  index: number;
  runId: string;
  /** Last epoch written to metrics.csv (0 before the first), of `epochs`. */
  epoch: number;
  epochs: number;
  /** Latest evaluated accuracy (fraction), null before the first evaluation. */
  acc: number | null;
}

export interface BoardState {
  total: number;
  done: number;
  failed: number;
  running: RunningTrial[];
  elapsedSeconds: number;
}

const BAR_WIDTH = 30;

/** The board's lines: the total bar first, then one per running trial (pure, for tests). */
export function renderBoard(state: BoardState, accuracy = 'acc'): string[] {
  const filled = state.total ? Math.round((BAR_WIDTH * state.done) / state.total) : 0;
  const total =
    `sweep |${'█'.repeat(filled)}${'░'.repeat(BAR_WIDTH - filled)}| ${state.done}/${state.total} trials done` +
    `${state.failed ? ` (${state.failed} failed)` : ''}, ${state.running.length} running, ${formatSeconds(state.elapsedSeconds)} elapsed`;
  const trials = state.running.map(
    (t) =>
      `  trial ${t.index} ${t.runId}: epoch ${t.epoch}/${t.epochs}${t.acc === null ? '' : `, ${accuracy} ${(100 * t.acc).toFixed(2)}%`}`,
  );
  return [total, ...trials];
}

export class SweepBoard implements TrialWatcher {
  private readonly running = new Map<number, Trial>();
  private done = 0;
  private failed = 0;
  private drawn = 0; // lines of the board on screen, to move back over
  private readonly started = performance.now();
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly out: NodeJS.WriteStream,
    private readonly total: number,
  ) {
    this.timer = setInterval(() => this.draw(), 1000);
    this.timer.unref();
    showDisplay(this);
  }

  log(line: string): void {
    this.clear();
    this.out.write(`${line}\n`);
    this.draw();
  }

  trial(trial: Trial, outcome: TrialOutcome | 'started'): void {
    if (outcome === 'started') this.running.set(trial.index, trial);
    else {
      this.running.delete(trial.index);
      if (outcome === 'finished') this.done++;
      if (outcome === 'failed') this.failed++;
    }
    this.draw();
  }

  stop(): void {
    clearInterval(this.timer);
    this.clear();
    endDisplay(this);
  }

  state(): BoardState {
    const running = [...this.running.values()].map((t) => {
      const rows = readMetrics(t.identity.dir);
      const evaluated = rows.filter((r) => r.val_acc !== null);
      return {
        index: t.index,
        runId: t.identity.run_id,
        epoch: rows.at(-1)?.epoch ?? 0,
        epochs: t.config.train.epochs,
        acc: evaluated.at(-1)?.val_acc ?? null,
      };
    });
    return {
      total: this.total,
      done: this.done,
      failed: this.failed,
      running,
      elapsedSeconds: (performance.now() - this.started) / 1000,
    };
  }

  private clear(): void {
    if (this.drawn) this.out.write(`\x1b[${this.drawn}A\x1b[0J`); // up over the board, erase to the end
    this.drawn = 0;
  }

  private draw(): void {
    const width = this.out.columns || 120;
    const lines = renderBoard(this.state()).map((l) => l.slice(0, width - 1));
    this.clear();
    this.out.write(`${lines.join('\n')}\n`);
    this.drawn = lines.length;
  }
}
