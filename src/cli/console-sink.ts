/**
 * Console presentation of a run: a progress bar (loss, accuracy, images/s) on a terminal, one plain
 * line per epoch otherwise (CI logs), nothing with --quiet. Writes to the given stream so that
 * --json can keep stdout for the machine-readable summary.
 */
import cliProgress from 'cli-progress';
import { formatCount, pct } from '../format.js';
import type { EpochRow, RunSink, RunStart, RunSummary, StepProgress } from '../runs/records.js';
import { endDisplay, showDisplay, wasInterrupted } from './interrupt.js';

export type Verbosity = 'quiet' | 'normal';

/** A fraction as a percentage, or a blank of the same width on epochs without evaluation. */
const pctOrBlank = (v: number | null) => (v === null ? '   -  ' : `${pct(v)}%`);

/** `75 s`, `12m05s`, `1h02m`: short enough for a progress line. */
export function formatSeconds(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '?';
  const s = Math.round(seconds);
  if (s < 100) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

/**
 * Time since the run (this process's part of it) started, and the time left at the average step
 * time so far (evaluation not counted), from the fraction of its training steps done.
 */
export function runTiming(
  elapsedSeconds: number,
  done: number,
  total: number,
): { run_elapsed: string; run_eta: string } {
  return {
    run_elapsed: formatSeconds(elapsedSeconds),
    run_eta: done > 0 ? formatSeconds((elapsedSeconds * (total - done)) / done) : '?',
  };
}

export class ConsoleSink implements RunSink {
  private bar: cliProgress.SingleBar | null = null;
  private runId = '';
  private epochs = 0;
  private firstEpoch = 1;
  private arm = '';
  private started = 0;
  private last: StepProgress | null = null;

  constructor(
    private readonly out: NodeJS.WriteStream,
    private readonly verbosity: Verbosity,
  ) {}

  private get tty(): boolean {
    return Boolean(this.out.isTTY) && this.verbosity === 'normal';
  }

  private print(line: string): void {
    if (this.verbosity !== 'quiet') this.out.write(`${line}\n`);
  }

  start(info: RunStart): void {
    this.runId = info.run_id;
    this.epochs = info.epochs;
    this.firstEpoch = info.firstEpoch;
    this.arm = `${info.freeze} k=${info.kernel_size} E=${info.lc_expansion}${info.lc_depthwise ? ' dw' : ''} seed ${info.seed}`;
    this.started = performance.now();
    const c = info.counts;
    this.print(
      `run ${info.run_id}: ${info.arch} on ${info.dataset}, freeze=${info.freeze}, k=${info.kernel_size}, E=${info.lc_expansion}${info.lc_depthwise ? ' (depthwise)' : ''}, seed=${info.seed}`,
    );
    this.print(
      `  params: total ${formatCount(c.total)}, learnable ${formatCount(c.learnable)}, frozen ${formatCount(c.frozen)}, stored ${formatCount(c.stored)} (+${formatCount(c.buffers)} BN buffers)`,
    );
    const lcLine = lcFormsLine(info);
    if (lcLine) this.print(lcLine);
    this.print(
      `  ${info.epochs} epochs × ${info.stepsPerEpoch} steps of ${info.batchSize} on ${info.backend} (${info.device}); output ${info.dir}`,
    );
    if (info.firstEpoch > 1) this.print(`  resuming from the checkpoint of epoch ${info.firstEpoch - 1}`);
  }

  step(p: StepProgress): void {
    this.last = p;
    if (!this.tty || wasInterrupted()) return; // a progress read landing after Ctrl-C must not start a new bar
    const payload = this.payload(p, 'train');
    if (!this.bar) {
      this.bar = new cliProgress.SingleBar(
        {
          format: `{arm} | epoch {ep}/${this.epochs} |{bar}| {value}/{total} {phase} | loss {loss} | acc {acc}% | {ips} img/s | {run_elapsed} elapsed, ETA {run_eta}`,
          stream: this.out,
          clearOnComplete: true,
          hideCursor: true,
        },
        cliProgress.Presets.shades_classic,
      );
      this.bar.start(p.steps, p.step, payload);
      showDisplay(this);
    } else {
      this.bar.update(p.step, payload);
    }
  }

  /** The bar says so while the epoch's evaluation runs (it would otherwise sit at the last step). */
  evaluating(): void {
    if (!this.bar || !this.last) return;
    this.bar.update(this.last.step, this.payload(this.last, 'evaluating'));
    this.bar.render(); // now, not at the next throttled redraw: evaluation may take a while
  }

  private payload(p: StepProgress, phase: 'train' | 'evaluating') {
    const stepsPerRun = (this.epochs - this.firstEpoch + 1) * p.steps;
    const done = (p.epoch - this.firstEpoch) * p.steps + p.step;
    return {
      arm: this.arm,
      ep: p.epoch,
      phase: phase === 'train' ? 'steps' : 'steps, evaluating…',
      loss: p.loss.toFixed(4),
      acc: (100 * p.acc).toFixed(1),
      ips: p.imagesPerSecond.toFixed(1),
      ...runTiming((performance.now() - this.started) / 1000, done, stepsPerRun),
      // (cli-progress's own {eta} and {duration} cover one bar, i.e. one epoch; these cover the run)
    };
  }

  /** Stops the bar (its timer too); the next step draws a new one. */
  stop(): void {
    this.bar?.stop();
    this.bar = null;
    endDisplay(this);
  }

  epoch(row: EpochRow): void {
    this.stop();
    this.print(
      `[${this.runId}] epoch ${row.epoch}/${this.epochs} lr ${row.lr.toPrecision(3)} train_loss ${row.train_loss.toFixed(4)} train_acc ${pctOrBlank(row.train_acc)} ` +
        `val_loss ${row.val_loss === null ? '-' : row.val_loss.toFixed(4)} val_acc ${pctOrBlank(row.val_acc)} best ${pctOrBlank(row.best_val_acc)} ` +
        `${row.epoch_seconds.toFixed(1)} s ${row.images_per_second.toFixed(1)} img/s`,
    );
  }

  end(s: RunSummary): void {
    this.print(
      `[${s.run_id}] finished: final val_acc ${pctOrBlank(s.final_val_acc)}, best ${pctOrBlank(s.best_val_acc)} (epoch ${s.best_epoch}), ${s.wall_seconds.toFixed(1)} s`,
    );
  }
}

/**
 * "  LC blocks (lc_compute auto, batch 128): 19 composed" — or, when the forms differ, each form's
 * count with the blocks of the smaller one named. Null for a model without LC blocks.
 */
export function lcFormsLine(info: Pick<RunStart, 'lcCompute' | 'lcForms' | 'batchSize'>): string | null {
  const names = Object.keys(info.lcForms);
  if (names.length === 0) return null;
  const byForm = new Map<string, string[]>();
  for (const name of names) byForm.set(info.lcForms[name]!, [...(byForm.get(info.lcForms[name]!) ?? []), name]);
  const groups = [...byForm].sort((a, b) => b[1].length - a[1].length);
  const parts = groups.map(([form, blocks], i) =>
    i === 0 ? `${blocks.length} ${form}` : `${blocks.length} ${form} (${blocks.join(', ')})`,
  );
  return `  LC blocks (lc_compute ${info.lcCompute}, batch ${info.batchSize}): ${parts.join(', ')}`;
}
