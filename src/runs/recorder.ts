/**
 * The run-directory sink: `config.yaml` (fully resolved, with provenance) at the start, one
 * `metrics.csv` row per epoch (appended through csv-writer, never rewritten), the checkpoint after
 * each epoch, and `summary.json` written atomically at the end — its presence marks the run as
 * finished. It is also the trainer's checkpoint store: it loads the checkpoint a resume starts from.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { createObjectCsvStringifier } from 'csv-writer';
import { stringify } from 'yaml';
import type { Config } from '../config/schema.js';
import { InputError } from '../errors.js';
import { appendToFile, makeDir } from '../fs-safety.js';
import type { Model } from '../models/index.js';
import { loadCheckpoint, saveCheckpoint } from './checkpoint.js';
import {
  CONFIG_FILE,
  checkMetricsComplete,
  DamagedFile,
  METRICS_FILE,
  truncateMetrics,
  writeAtomic,
  writeSummary,
} from './files.js';
import {
  EPOCH_COLUMNS,
  type CheckpointStore,
  type EpochRow,
  type OptimizerState,
  type RunSink,
  type RunStart,
  type RunSummary,
  type TrainState,
} from './records.js';

export class RunRecorder implements RunSink, CheckpointStore {
  private readonly csv = createObjectCsvStringifier({ header: EPOCH_COLUMNS.map((id) => ({ id, title: id })) });
  private rowsWritten = 0;

  constructor(
    private readonly config: Config,
    private readonly dir: string,
    private readonly provenance: { configFile?: string; gitCommit: string | null },
  ) {}

  start(info: RunStart): void {
    makeDir(info.dir);
    const resolved = { ...this.config, seed: info.seed, seeds: undefined };
    const header = [
      `# lcconv resolved config for run ${info.run_id}`,
      `# source: ${this.provenance.configFile ?? '(built-in default)'}; git commit: ${this.provenance.gitCommit ?? 'unknown'}`,
      `# backend: ${info.backend} (${info.device})`,
    ].join('\n');
    writeAtomic(join(info.dir, CONFIG_FILE), `${header}\n${stringify(resolved)}`);
    const metrics = join(info.dir, METRICS_FILE);
    const resuming = info.firstEpoch > 1;
    if (resuming) {
      // The checkpoint has no copy of the rows: a resume over a cut or deleted metrics.csv would end
      // "finished" with epochs missing from its history, so it is refused instead.
      try {
        checkMetricsComplete(info.dir, info.firstEpoch - 1, { rowsAfter: true });
      } catch (err) {
        if (!(err instanceof DamagedFile)) throw err;
        throw new InputError(
          `${err.message}; the checkpoint of epoch ${info.firstEpoch - 1} cannot restore these rows: start the run over with --force`,
        );
      }
    }
    // A fresh start replaces the rows of an earlier unfinished attempt; a resume appends after them,
    // first dropping rows past the checkpoint (written just before a kill that beat the checkpoint).
    if (!resuming) writeAtomic(metrics, this.csv.getHeaderString()!);
    else truncateMetrics(info.dir, info.firstEpoch - 1);
  }

  async epoch(row: EpochRow): Promise<void> {
    const metrics = join(this.dir, METRICS_FILE);
    // Appending to a file someone deleted would restart it without a header and the earlier rows.
    if (this.rowsWritten > 0 && !existsSync(metrics))
      throw new DamagedFile(
        metrics,
        'deleted while the run was writing it; the rows of earlier epochs are lost: start the run again without --resume',
      );
    // Whole or not at all: a full disk must not leave half a row that breaks every later read.
    appendToFile(metrics, this.csv.stringifyRecords([row]));
    this.rowsWritten++;
  }

  load(model: Model, optimizer: OptimizerState): Promise<TrainState | null> {
    return loadCheckpoint(this.dir, model, optimizer, this.config.train.epochs);
  }

  save(model: Model, optimizer: OptimizerState, state: TrainState): Promise<void> {
    return saveCheckpoint(this.dir, model, optimizer, state);
  }

  end(summary: RunSummary): void {
    writeSummary(summary);
  }
}
