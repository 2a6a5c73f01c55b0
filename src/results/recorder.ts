/**
 * The run-directory sink: `config.yaml` (fully resolved, with provenance) at the start, one
 * `metrics.csv` row per epoch (appended through csv-writer, never rewritten), and `summary.json`
 * written atomically at the end — its presence marks the run as finished.
 */
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { createObjectCsvWriter } from 'csv-writer';
import { stringify } from 'yaml';
import type { Config } from '../config/schema.js';
import { makeDir } from '../fs-safety.js';
import { EPOCH_COLUMNS, type EpochRow, type RunSink, type RunStart, type RunSummary } from './records.js';
import { CONFIG_FILE, METRICS_FILE, SUMMARY_FILE, writeAtomic } from './run-dir.js';

type CsvWriter = ReturnType<typeof createObjectCsvWriter>;

/** Keeps the header and the rows of epochs <= `lastEpoch`; rewritten atomically. */
function truncateAfter(file: string, lastEpoch: number): void {
  const [header, ...rows] = readFileSync(file, 'utf8').split('\n').filter((l) => l !== '');
  const kept = rows.filter((r) => Number(r.split(',')[0]) <= lastEpoch);
  if (kept.length !== rows.length) writeAtomic(file, [header, ...kept].map((l) => `${l}\n`).join(''));
}

export class RunRecorder implements RunSink {
  private csv: CsvWriter | null = null;

  constructor(
    private readonly config: Config,
    private readonly provenance: { configFile?: string; gitCommit: string | null },
  ) {}

  start(info: RunStart): void {
    makeDir(info.dir);
    const resolved = { ...this.config, seed: info.seed, seeds: undefined };
    const header = [
      `# lcconv resolved config for run ${info.runId}`,
      `# source: ${this.provenance.configFile ?? '(built-in default)'}; git commit: ${this.provenance.gitCommit ?? 'unknown'}`,
      `# backend: ${info.backend} (${info.device})`,
    ].join('\n');
    writeAtomic(join(info.dir, CONFIG_FILE), `${header}\n${stringify(resolved)}`);
    const metrics = join(info.dir, METRICS_FILE);
    const resuming = info.firstEpoch > 1 && existsSync(metrics);
    // A fresh start replaces the rows of an earlier unfinished attempt; a resume appends after them,
    // first dropping rows past the checkpoint (written just before a kill that beat the checkpoint).
    if (!resuming) rmSync(metrics, { force: true });
    else truncateAfter(metrics, info.firstEpoch - 1);
    this.csv = createObjectCsvWriter({ path: metrics, header: EPOCH_COLUMNS.map((id) => ({ id, title: id })), append: resuming });
  }

  async epoch(row: EpochRow): Promise<void> {
    await this.csv!.writeRecords([row]);
  }

  end(summary: RunSummary): void {
    writeAtomic(join(summary.dir, SUMMARY_FILE), `${JSON.stringify(summary, null, 2)}\n`);
  }
}
