/**
 * The run-directory sink: `config.yaml` (fully resolved, with provenance) at the start, one
 * `metrics.csv` row per epoch (appended through csv-writer, never rewritten), and `summary.json`
 * written atomically at the end — its presence marks the run as finished.
 */
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { createObjectCsvWriter } from 'csv-writer';
import { stringify } from 'yaml';
import type { Config } from '../config/schema.js';
import { EPOCH_COLUMNS, type EpochRow, type RunSink, type RunStart, type RunSummary } from './records.js';
import { CONFIG_FILE, METRICS_FILE, SUMMARY_FILE, writeAtomic } from './run-dir.js';

type CsvWriter = ReturnType<typeof createObjectCsvWriter>;

export class RunRecorder implements RunSink {
  private csv: CsvWriter | null = null;

  constructor(
    private readonly config: Config,
    private readonly provenance: { configFile?: string; gitCommit: string | null },
  ) {}

  start(info: RunStart): void {
    mkdirSync(info.dir, { recursive: true });
    const resolved = { ...this.config, seed: info.seed, seeds: undefined };
    const header = [
      `# lcconv resolved config for run ${info.runId}`,
      `# source: ${this.provenance.configFile ?? '(built-in default)'}; git commit: ${this.provenance.gitCommit ?? 'unknown'}`,
      `# backend: ${info.backend} (${info.device})`,
    ].join('\n');
    writeAtomic(join(info.dir, CONFIG_FILE), `${header}\n${stringify(resolved)}`);
    const metrics = join(info.dir, METRICS_FILE);
    const resuming = info.firstEpoch > 1 && existsSync(metrics);
    // A fresh start replaces the rows of an earlier unfinished attempt; a resume appends after them.
    if (!resuming) rmSync(metrics, { force: true });
    this.csv = createObjectCsvWriter({ path: metrics, header: EPOCH_COLUMNS.map((id) => ({ id, title: id })), append: resuming });
  }

  async epoch(row: EpochRow): Promise<void> {
    await this.csv!.writeRecords([row]);
  }

  end(summary: RunSummary): void {
    writeAtomic(join(summary.dir, SUMMARY_FILE), `${JSON.stringify(summary, null, 2)}\n`);
  }
}
