/**
 * `lcconv eval <run dir | experiment dir | sweep dir>`: reload every finished run and measure clean,
 * adversarial (FGSM, PGD L∞, PGD L2) and common-corruption accuracy; write eval.csv in each run
 * directory and print a table (or --json). Settings come from the run's `eval:` config block; the
 * flags below override it and are validated by the same schema, before anything is loaded.
 */
import type { ArgumentsCamelCase, Argv, CommandModule } from 'yargs';
import { FULL_EVAL } from '../../config/names.js';
import { ConfigError, InputError, SomeRunsSkipped } from '../../errors.js';
import type { FinishedRun } from '../../eval/load-run.js';
import type { EvalRow } from '../../eval/records.js';
import { endDisplay, handleInterrupts, showDisplay } from '../interrupt.js';

interface EvalArgs {
  dir: string;
  attacks?: string[];
  eps?: string[];
  l2Eps?: string[];
  steps?: number;
  stepSize?: number;
  restarts?: number;
  corruptions?: string[];
  severities?: string[];
  images?: string;
  seed?: number;
  batchSize?: number;
  full: boolean;
  set: string[];
  backend?: string;
  json: boolean;
  quiet: boolean;
}

/** A list flag as YAML: repeated and/or comma-separated values; 'none' is the empty list. */
function listOverride(key: string, values: string[] | undefined): string[] {
  if (values === undefined) return [];
  const items = values.flatMap((v) => v.split(',')).map((v) => v.trim());
  // `none` alone is the empty list; an empty item (`1,,2`, a trailing comma) is a typo, not nothing.
  if (items.length === 1 && items[0] === 'none') return [`eval.${key}=[]`];
  const empty = items.findIndex((v) => v === '' || v === 'none');
  if (empty >= 0)
    throw new InputError(
      `${FLAG_OF[key]} ${values.join(' ')}: value ${empty + 1} is ${items[empty] === '' ? 'empty' : "'none' among other values"}; give comma-separated values, or none alone for an empty list`,
    );
  return [`eval.${key}=[${items.join(',')}]`];
}

/** Which flag sets each eval key, so an error names the flag the user typed. */
const FLAG_OF: Record<string, string> = {
  attacks: '--attacks',
  linf_epsilons: '--eps',
  l2_epsilons: '--l2-eps',
  corruptions: '--corruptions',
  severities: '--severities',
  steps: '--steps',
  step_size: '--step-size',
  restarts: '--restarts',
  images: '--images',
  seed: '--seed',
  batch_size: '--batch-size',
};

/** Validates the flags against the config schema; errors name the flag (`--eps: item 1: …`). */
export async function checkEvalFlags(args: Omit<EvalArgs, 'dir' | 'json' | 'quiet'>): Promise<string[]> {
  const overrides = evalOverrides(args);
  const { loadConfigText } = await import('../../config/load.js');
  try {
    loadConfigText('{}', undefined, overrides);
  } catch (err) {
    // The loader names the override and where in its value (`--set eval.linf_epsilons=[…] (at eval.linf_epsilons.1)`).
    const keyPath = err instanceof ConfigError ? (err.where.keyPath ?? '') : '';
    const match = /^--set eval\.(\w+)/.exec(keyPath);
    const item = /\.(\d+)\)$/.exec(keyPath)?.[1];
    const flag = match && FLAG_OF[match[1]!];
    const fromSet = match && args.set.some((s) => s.startsWith(`eval.${match[1]}=`));
    if (err instanceof ConfigError && flag && !fromSet)
      throw new InputError(`${flag}${item !== undefined ? ` value ${Number(item) + 1}` : ''}: ${err.problem}`);
    throw err;
  }
  return overrides;
}

/** The flags as `--set eval.…` overrides, so the schema validates them and names the key. */
export function evalOverrides(args: Omit<EvalArgs, 'dir' | 'json' | 'quiet'>): string[] {
  const scalar = (key: string, value: number | undefined) => (value === undefined ? [] : [`eval.${key}=${value}`]);
  for (const spec of args.set) {
    if (!spec.startsWith('eval.'))
      throw new InputError(
        `--set ${spec}: lcconv eval only overrides eval.* keys (the run's other settings are fixed by its directory)`,
      );
  }
  const overrides = [
    ...listOverride('attacks', args.attacks),
    ...listOverride('linf_epsilons', args.eps),
    ...listOverride('l2_epsilons', args.l2Eps),
    ...listOverride('corruptions', args.corruptions),
    ...listOverride('severities', args.severities),
    ...scalar('steps', args.steps),
    ...scalar('step_size', args.stepSize),
    ...scalar('restarts', args.restarts),
    ...(args.images === undefined ? [] : [`eval.images=${args.images}`]),
    ...scalar('seed', args.seed),
    ...scalar('batch_size', args.batchSize),
    ...args.set,
    ...(args.backend ? [`backend=${args.backend}`] : []),
  ];
  if (!args.full) return overrides;
  // --full: the full protocol for every key no flag or --set gave.
  const given = new Set(overrides.map((o) => o.slice(0, o.indexOf('='))));
  for (const [key, value] of Object.entries(FULL_EVAL))
    if (!given.has(`eval.${key}`)) overrides.push(`eval.${key}=${JSON.stringify(value)}`);
  return overrides;
}

/**
 * Progress of one run's settings: a bar with ETA on a terminal, one line per setting elsewhere.
 * Accuracies are printed once, in the table after the run.
 */
async function settingsProgress(
  out: NodeJS.WriteStream,
  quiet: boolean,
  settingOf: (row: EvalRow) => string,
): Promise<{ update: (done: number, total: number, row: EvalRow, reused: boolean) => void; stop: () => void }> {
  const cliProgress = (await import('cli-progress')).default;
  let bar: import('cli-progress').SingleBar | null = null;
  const display = {
    stop() {
      bar?.stop();
      endDisplay(display);
    },
  };
  const label = (row: EvalRow, reused: boolean) =>
    `${`${row.name} ${settingOf(row)}`.trim()}${reused ? ' (from eval.csv)' : ''}`;
  return {
    update(done, total, row, reused) {
      if (quiet) return;
      if (!out.isTTY) {
        out.write(`  [${done}/${total}] ${label(row, reused)}\n`);
        return;
      }
      if (!bar) {
        bar = new cliProgress.SingleBar(
          {
            format: '  |{bar}| {value}/{total} settings, ETA {eta_formatted}  {last}',
            stream: out,
            hideCursor: true,
            clearOnComplete: true,
          },
          cliProgress.Presets.shades_classic,
        );
        bar.start(total, 0, { last: '' });
        showDisplay(display);
      }
      bar.update(done, { last: label(row, reused) });
    },
    stop: () => display.stop(),
  };
}

export const evalCommand: CommandModule<object, EvalArgs> = {
  command: 'eval <dir>',
  describe: 'evaluate finished runs: clean, FGSM, PGD (L∞, L2) and common-corruption accuracy → eval.csv',
  builder: (y: Argv) =>
    y
      .positional('dir', {
        type: 'string',
        demandOption: true,
        describe: 'a run directory, or an experiment or sweep folder of runs',
      })
      .option('attacks', {
        type: 'string',
        array: true,
        describe: 'fgsm, pgd, pgd_l2 (comma-separated; none = no attacks)',
      })
      .option('eps', {
        type: 'string',
        array: true,
        describe: 'L∞ ε of fgsm and pgd in units of 1/255, e.g. 0.5,1,2,4,8',
      })
      .option('l2-eps', { type: 'string', array: true, describe: 'L2 ε of pgd_l2 in [0,1] pixel units, e.g. 0.25,0.5' })
      .option('steps', { type: 'number', describe: 'PGD iterations (default 10)' })
      .option('step-size', { type: 'number', describe: 'PGD step α = step-size·ε/steps (default 2.5)' })
      .option('restarts', { type: 'number', describe: 'PGD random restarts (default 1)' })
      .option('corruptions', {
        type: 'string',
        array: true,
        describe: 'built-in corruptions (comma-separated; none = no corruptions)',
      })
      .option('severities', { type: 'string', array: true, describe: 'corruption severities 1..5' })
      .option('images', {
        type: 'string',
        describe: 'evaluate N images of the split (seeded choice; default 1000), or all',
      })
      .option('full', {
        type: 'boolean',
        default: false,
        describe:
          "the paper's protocol: every image, fgsm/pgd/pgd_l2 at every usual ε, every corruption at severities 1-5 (far slower than the default on a CPU); other flags still override",
      })
      .option('seed', { type: 'number', describe: 'seed of image choice, corruptions and random starts (default 0)' })
      .option('batch-size', { type: 'number', describe: 'images per batch (default 256)' })
      .option('set', {
        type: 'string',
        array: true,
        default: [],
        describe: 'override an eval.* key, e.g. --set eval.restarts=5',
      })
      .option('backend', { type: 'string', describe: 'tfjs backend (default: the run config’s)' })
      .option('quiet', { type: 'boolean', default: false, describe: 'print only the tables' })
      .option('json', {
        type: 'boolean',
        default: false,
        describe: 'print the rows of every run as JSON on stdout',
      })
      .example('$0 eval results/fashion-mnist', 'every finished run of an experiment: clean, FGSM, PGD and corruptions')
      .example('$0 eval results/fashion-mnist --images 500 --eps 2,8 --severities 1,3,5', 'a quicker look')
      .example('$0 eval results/kernel-sweep --json > eval.json', 'a sweep, rows as JSON') as unknown as Argv<EvalArgs>,
  handler: async (args: ArgumentsCamelCase<EvalArgs>) => {
    const overrides = await checkEvalFlags(args); // before any run is read
    const { evaluateRun, formatEvaluation, settingOf } = await import('../../eval/run-eval.js');
    const { readFinishedRun, loadFinishedModel } = await import('../../eval/load-run.js');
    const out = args.json ? process.stderr : process.stdout;
    const say = (line: string) => {
      if (!args.quiet) out.write(`${line}\n`);
    };

    // The interrupt policy's at-once form: each row is in eval.csv (written whole) as soon as it is
    // measured, so Ctrl-C ends the command after the current batch (evaluate yields after each).
    handleInterrupts(
      (line) => process.stderr.write(`${line}\n`),
      undefined,
      'evaluation stopped; every row measured so far is in eval.csv, and a rerun reuses it',
    );
    const { finishedRunsUnder, eachRun } = await import('../../runs/scan.js');
    const folder = finishedRunsUnder(args.dir, 'to evaluate');
    for (const s of folder.skipped) say(`skipping ${s.name}: ${s.cause}`);
    for (const u of folder.unfinished) say(`not evaluated: ${u.name} (${u.cause})`);
    const skipped = [...folder.skipped];
    const read = await eachRun(folder, folder.finished, async (dir) => readFinishedRun(dir, overrides), skipped, say);
    if (read.length === 0) throw new SomeRunsSkipped(skipped);

    const { chooseBackendFor } = await import('../backend-banner.js');
    const { releaseBackends } = await import('../../backends/index.js');
    const { loadDataset } = await import('../../data/index.js');
    await chooseBackendFor(read[0]!.config, say);
    try {
      // Every checkpoint loads (digest checked) before the first eval.csv is written; a damaged one is skipped.
      const loadable = new Set(
        await eachRun(
          folder,
          read.map((r) => r.dir),
          async (dir) => {
            (await loadFinishedModel(read.find((r) => r.dir === dir)!)).dispose();
            return dir;
          },
          skipped,
          say,
        ),
      );
      const runs = read.filter((r) => loadable.has(r.dir));
      // Runs of one experiment share their dataset (the synthetic set depends on the run seed).
      const datasets = new Map<string, ReturnType<typeof loadDataset>>();
      const dataOf = (run: FinishedRun) => {
        const key = JSON.stringify([run.config.dataset, run.config.dataset.name === 'synthetic' ? run.config.seed : 0]);
        if (!datasets.has(key)) datasets.set(key, loadDataset(run.config.dataset, run.config.seed));
        return datasets.get(key)!;
      };
      const results = [];
      for (const run of runs) {
        say(`evaluating ${run.dir}`);
        const progress = await settingsProgress(out, args.quiet, settingOf);
        let result: Awaited<ReturnType<typeof evaluateRun>>;
        try {
          result = await evaluateRun(run, { data: dataOf(run), onProgress: progress.update });
        } finally {
          progress.stop();
        }
        results.push(result);
        if (!args.json) process.stdout.write(`${formatEvaluation(result)}\n\n`);
      }
      if (args.json) {
        process.stdout.write(
          `${JSON.stringify(
            results.map((r) => ({
              run: r.run.summary.run_id,
              dir: r.run.dir,
              seconds: r.seconds,
              file: r.file,
              rows: r.rows,
            })),
            null,
            2,
          )}\n`,
        );
      }
      if (skipped.length) throw new SomeRunsSkipped(skipped); // after every healthy run is evaluated and written
    } finally {
      await releaseBackends();
    }
  },
};
