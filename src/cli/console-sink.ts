/**
 * Console presentation of a run: a progress bar (loss, accuracy, images/s) on a terminal, one plain
 * line per epoch otherwise (CI logs), nothing with --quiet. Writes to the given stream so that
 * --json can keep stdout for the machine-readable summary.
 */
import cliProgress from 'cli-progress';
import { formatCount, pct } from '../format.js';
import type { EpochRow, RunSink, RunStart, RunSummary, StepProgress } from '../runs/records.js';

export type Verbosity = 'quiet' | 'normal';

/** A fraction as a percentage, or a blank of the same width on epochs without evaluation. */
const pctOrBlank = (v: number | null) => (v === null ? '   -  ' : `${pct(v)}%`);

export class ConsoleSink implements RunSink {
  private bar: cliProgress.SingleBar | null = null;
  private runId = '';
  private epochs = 0;

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
    const c = info.counts;
    this.print(`run ${info.run_id}: ${info.arch} on ${info.dataset}, freeze=${info.freeze}, k=${info.kernel_size}, E=${info.lc_expansion}${info.lc_depthwise ? ' (depthwise)' : ''}, seed=${info.seed}`);
    this.print(`  params: total ${formatCount(c.total)}, learnable ${formatCount(c.learnable)}, frozen ${formatCount(c.frozen)}, stored ${formatCount(c.stored)} (+${formatCount(c.buffers)} BN buffers)`);
    this.print(`  ${info.epochs} epochs × ${info.stepsPerEpoch} steps of ${info.batchSize} on ${info.backend} (${info.device}); output ${info.dir}`);
    if (info.firstEpoch > 1) this.print(`  resuming from the checkpoint of epoch ${info.firstEpoch - 1}`);
  }

  step(p: StepProgress): void {
    if (!this.tty) return;
    const payload = { ep: p.epoch, loss: p.loss.toFixed(4), acc: (100 * p.acc).toFixed(1), ips: p.imagesPerSecond.toFixed(1) };
    if (!this.bar) {
      this.bar = new cliProgress.SingleBar(
        { format: `epoch {ep}/${this.epochs} |{bar}| {value}/{total} steps | loss {loss} | acc {acc}% | {ips} img/s`, stream: this.out, clearOnComplete: true, hideCursor: true },
        cliProgress.Presets.shades_classic,
      );
      this.bar.start(p.steps, p.step, payload);
    } else {
      this.bar.update(p.step, payload);
    }
  }

  epoch(row: EpochRow): void {
    this.bar?.stop();
    this.bar = null;
    this.print(
      `[${this.runId}] epoch ${row.epoch}/${this.epochs} lr ${row.lr.toPrecision(3)} train_loss ${row.train_loss.toFixed(4)} train_acc ${pctOrBlank(row.train_acc)} ` +
        `val_loss ${row.val_loss === null ? '-' : row.val_loss.toFixed(4)} val_acc ${pctOrBlank(row.val_acc)} best ${pctOrBlank(row.best_val_acc)} ` +
        `${row.epoch_seconds.toFixed(1)} s ${row.images_per_second.toFixed(1)} img/s`,
    );
  }

  end(s: RunSummary): void {
    this.print(`[${s.run_id}] finished: final val_acc ${pctOrBlank(s.final_val_acc)}, best ${pctOrBlank(s.best_val_acc)} (epoch ${s.best_epoch}), ${s.wall_seconds.toFixed(1)} s`);
  }
}
