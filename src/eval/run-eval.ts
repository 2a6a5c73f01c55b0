/**
 * `lcconv eval` and the config's `eval.after_training`: evaluate finished runs and write
 * `<run dir>/eval.csv` (one row per evaluation, through csv-writer, written atomically).
 * Which runs a folder holds is src/runs/scan.ts's to decide.
 */
import { join } from 'node:path';
import { releaseBackends } from '../backends/index.js';
import { loadDataset, type Dataset } from '../data/index.js';
import { pct } from '../format.js';
import { runPaths } from '../runs/files.js';
import { CIFAR100C_LAYOUT, CIFAR10C_LAYOUT, checkCorruptedDir } from '../data/cifar-c.js';
import { evaluateRobustness, type CorruptedTestSet, type EvaluateOptions } from './evaluate.js';
import {
  accumulateEvalCsv,
  evalRowKey,
  formatEpsilon,
  meanCorruptionAccuracy,
  readEvalCsv,
  type EvalRow,
} from '../runs/eval-csv.js';
import { SomeRunsSkipped } from '../errors.js';
import { eachRun, finishedRunsUnder, type SkippedRun } from '../runs/scan.js';
import { loadFinishedModel, readFinishedRun, type FinishedRun } from './load-run.js';

export interface RunEvaluation {
  run: FinishedRun;
  rows: EvalRow[];
  seconds: number;
  file: string;
}

/**
 * Evaluates one finished run with its config's `eval` block and writes eval.csv. `data` may be
 * passed when already loaded (after training); it must be the run's dataset.
 */
export async function evaluateRun(
  run: FinishedRun,
  options: { data?: Dataset; onProgress?: EvaluateOptions['onProgress'] } = {},
): Promise<RunEvaluation> {
  const t0 = performance.now();
  const data = options.data ?? loadDataset(run.config.dataset, run.config.seed);
  const model = await loadFinishedModel(run);
  try {
    const split = run.config.dataset.val_split > 0 ? 'val' : 'test';
    const file = runPaths(run.dir).eval;
    // Rows already in eval.csv (an earlier or interrupted evaluation) are reused, not measured again.
    const measured = new Map((readEvalCsv(run.dir) ?? []).map((r) => [evalRowKey(r), r]));
    const rows = await evaluateRobustness(model, data, split, run.config.eval, {
      onRow: (row) => accumulateEvalCsv(file, [row]), // each row saved as measured: an interruption keeps it
      onProgress: options.onProgress,
      measured,
      published: publishedCorruptions(run),
    });
    return { run, rows, seconds: (performance.now() - t0) / 1000, file };
  } finally {
    model.dispose();
  }
}

/**
 * CIFAR-10-C / CIFAR-100-C under the run's dataset.root, when the run is on that CIFAR set, the
 * config asks for it and a complete copy is there (`lcconv data download cifar10-c`).
 */
function publishedCorruptions(run: FinishedRun): CorruptedTestSet | undefined {
  const { dataset } = run.config;
  const layout = dataset.name === 'cifar10' ? CIFAR10C_LAYOUT : dataset.name === 'cifar100' ? CIFAR100C_LAYOUT : null;
  if (!layout || !run.config.eval.cifar_c) return undefined;
  const dir = join(dataset.root, layout.dir);
  return checkCorruptedDir(dir, layout) === null ? { dir, perSeverity: layout.perSeverity } : undefined;
}

/** What an evaluation row was measured at: ε and steps of an attack, a corruption's severity. */
export function settingOf(r: EvalRow): string {
  if (r.metric === 'corruption' || r.metric === 'cifar-c')
    return `${r.metric === 'cifar-c' ? 'CIFAR-C ' : ''}severity ${r.severity}`;
  if (r.metric === 'adversarial')
    return `ε ${formatEpsilon(r)}${r.steps ? `, ${r.steps} steps${r.restarts! > 1 ? ` × ${r.restarts}` : ''}` : ''}`;
  return '';
}

/** The printed table of one run's evaluation. */
export function formatEvaluation(e: RunEvaluation): string {
  const first = e.rows[0];
  const lines = [
    `${e.run.summary.run_id}: ${first?.n ?? 0} ${first?.split ?? 'test'} images, ${e.seconds.toFixed(1)} s → ${e.file}`,
  ];
  const table = e.rows.map((r) => [r.name, settingOf(r), pct(r.accuracy)]);
  const mean = meanCorruptionAccuracy(e.rows);
  if (mean !== null) table.push(['corruptions', 'mean', pct(mean)]);
  const published = e.rows.filter((r) => r.metric === 'cifar-c');
  if (published.length)
    table.push(['CIFAR-C', 'mean', pct(published.reduce((s, r) => s + r.accuracy, 0) / published.length)]);
  const header = ['evaluation', 'setting', 'accuracy %'];
  const widths = header.map((h, i) => Math.max(h.length, ...table.map((row) => row[i]!.length)));
  const fmt = (row: string[]) =>
    `  ${row[0]!.padEnd(widths[0]!)}  ${row[1]!.padEnd(widths[1]!)}  ${row[2]!.padStart(widths[2]!)}`;
  return [...lines, fmt(header), ...table.map(fmt)].join('\n');
}

/** What evaluateFolder asks of its caller: where lines go, which backend, and progress per run. */
export interface FolderEvalHooks {
  say: (line: string) => void;
  /** Selects the backend for the runs' config (tfjs loads then) and says which. */
  chooseBackend: (config: FinishedRun['config']) => Promise<unknown>;
  /** A progress display for one run's settings; stopped when the run is done. */
  progress: () => Promise<{ update: NonNullable<EvaluateOptions['onProgress']>; stop: () => void }>;
  /** Each run's evaluation as soon as it is written. */
  onResult?: (result: RunEvaluation) => void;
}

/**
 * Evaluates every finished run of a run directory, or of an experiment or sweep folder, with the
 * `--set eval.…` style `overrides`. Every run's config and checkpoint are read (digests checked)
 * before the first eval.csv is written; a damaged run is skipped and named in `skipped`, and the
 * others go on. A single run directory's problem is thrown (one line).
 */
export async function evaluateFolder(
  dir: string,
  overrides: string[],
  hooks: FolderEvalHooks,
): Promise<{ results: RunEvaluation[]; skipped: SkippedRun[] }> {
  const { say } = hooks;
  const folder = finishedRunsUnder(dir, 'to evaluate');
  for (const s of folder.skipped) say(`skipping ${s.name}: ${s.cause}`);
  for (const u of folder.unfinished) say(`not evaluated: ${u.name} (${u.cause})`);
  const skipped = [...folder.skipped];
  const read = await eachRun(folder, folder.finished, async (d) => readFinishedRun(d, overrides), skipped, say);
  if (read.length === 0) throw new SomeRunsSkipped(skipped);
  await hooks.chooseBackend(read[0]!.config);
  try {
    const loadable = new Set(
      await eachRun(
        folder,
        read.map((r) => r.dir),
        async (d) => {
          (await loadFinishedModel(read.find((r) => r.dir === d)!)).dispose();
          return d;
        },
        skipped,
        say,
      ),
    );
    // Runs of one experiment share their dataset (the synthetic set depends on the run seed).
    const datasets = new Map<string, Dataset>();
    const dataOf = (run: FinishedRun) => {
      const key = JSON.stringify([run.config.dataset, run.config.dataset.name === 'synthetic' ? run.config.seed : 0]);
      if (!datasets.has(key)) datasets.set(key, loadDataset(run.config.dataset, run.config.seed));
      return datasets.get(key)!;
    };
    const results: RunEvaluation[] = [];
    for (const run of read.filter((r) => loadable.has(r.dir))) {
      say(`evaluating ${run.dir}`);
      const progress = await hooks.progress();
      try {
        results.push(await evaluateRun(run, { data: dataOf(run), onProgress: progress.update }));
      } finally {
        progress.stop();
      }
      hooks.onResult?.(results.at(-1)!);
    }
    return { results, skipped };
  } finally {
    await releaseBackends();
  }
}

/** The evaluations as `lcconv eval --json` prints them. */
export function evaluationsJson(results: RunEvaluation[]): string {
  const runs = results.map((r) => ({
    run: r.run.summary.run_id,
    dir: r.run.dir,
    seconds: r.seconds,
    file: r.file,
    rows: r.rows,
  }));
  return `${JSON.stringify(runs, null, 2)}\n`;
}
