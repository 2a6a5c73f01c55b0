/**
 * Console presentation of a run: a progress bar (loss, accuracy, images/s) on a terminal, one plain
 * line per epoch otherwise (CI logs), nothing with --quiet. Writes to the given stream so that
 * --json can keep stdout for the machine-readable summary.
 */
import cliProgress from 'cli-progress';
import type { EpochRow, RunSink, RunStart, RunSummary, StepProgress } from '../runs/records.js';

export type Verbosity = 'quiet' | 'normal';

const pct = (v: number | null) => (v === null ? '   -  ' : `${(100 * v).toFixed(2)}%`);
const fmtInt = (n: number) => n.toLocaleString('en-US');

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
    this.runId = info.runId;
    this.epochs = info.epochs;
    const c = info.counts;
    this.print(`run ${info.runId}: ${info.arch} on ${info.dataset}, freeze=${info.freeze}, k=${info.kernelSize}, E=${info.lcExpansion}${info.lcDepthwise ? ' (depthwise)' : ''}, seed=${info.seed}`);
    this.print(`  params: total ${fmtInt(c.total)}, learnable ${fmtInt(c.learnable)}, frozen ${fmtInt(c.frozen)}, stored ${fmtInt(c.stored)} (+${fmtInt(c.buffers)} BN buffers)`);
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
      `[${this.runId}] epoch ${row.epoch}/${this.epochs} lr ${row.lr.toPrecision(3)} train_loss ${row.train_loss.toFixed(4)} train_acc ${pct(row.train_acc)} ` +
        `val_loss ${row.val_loss === null ? '-' : row.val_loss.toFixed(4)} val_acc ${pct(row.val_acc)} best ${pct(row.best_val_acc)} ` +
        `${row.epoch_seconds.toFixed(1)} s ${row.images_per_second.toFixed(1)} img/s`,
    );
  }

  end(s: RunSummary): void {
    this.print(`[${s.runId}] finished: final val_acc ${pct(s.final_val_acc)}, best ${pct(s.best_val_acc)} (epoch ${s.best_epoch}), ${s.wall_seconds.toFixed(1)} s`);
  }
}
