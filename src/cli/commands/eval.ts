/**
 * `lcconv eval <run dir | experiment dir | sweep dir>`: reload every finished run and measure clean,
 * adversarial (FGSM, PGD L∞, PGD L2) and common-corruption accuracy; write eval.csv in each run
 * directory and print a table (or --json). Settings come from the run's `eval:` config block; the
 * flags below override it and are validated by the same schema, before anything is loaded.
 */
import type { ArgumentsCamelCase, Argv, CommandModule } from 'yargs';
import { FULL_EVAL } from '../../config/names.js';
import { ConfigError, InputError, SomeRunsSkipped } from '../../errors.js';
import { SCHEMA_FLAGS } from '../../config/flag-table.js';
import type { SchemaFlag } from '../../config/reference.js';
import type { EvalRow } from '../../runs/eval-csv.js';
import { endDisplay, handleInterrupts, showDisplay } from '../interrupt.js';

/** The eval.* keys `lcconv eval` takes as flags (from the schema, via src/config/flag-table.ts). */
const EVAL_FLAGS = SCHEMA_FLAGS.filter((f) => f.key.startsWith('eval.'));

/** The flags as yargs gives them (camelCase too): the eval flags by name, and the command's own. */
type EvalArgs = {
  dir: string;
  full: boolean;
  set: string[];
  backend?: string;
  json: boolean;
  quiet: boolean;
} & Record<string, unknown>;

/** The eval.* key a flag sets, and which flag sets each key (so an error names the flag the user typed). */
const keyOf = (f: SchemaFlag) => f.key.slice('eval.'.length);
const FLAG_OF = Object.fromEntries(EVAL_FLAGS.map((f) => [keyOf(f), `--${f.flag}`]));

/** A list flag as YAML: repeated and/or comma-separated values; 'none' is the empty list. */
function listOverride(key: string, values: string[]): string {
  const items = values.flatMap((v) => v.split(',')).map((v) => v.trim());
  // `none` alone is the empty list; an empty item (`1,,2`, a trailing comma) is a typo, not nothing.
  if (items.length === 1 && items[0] === 'none') return `eval.${key}=[]`;
  const empty = items.findIndex((v) => v === '' || v === 'none');
  if (empty >= 0)
    throw new InputError(
      `${FLAG_OF[key]} ${values.join(' ')}: value ${empty + 1} is ${items[empty] === '' ? 'empty' : "'none' among other values"}; give comma-separated values, or none alone for an empty list`,
    );
  return `eval.${key}=[${items.join(',')}]`;
}

/** What the overrides are made of: the eval flags, --full, --set and --backend. */
type FlagArgs = { full: boolean; set: string[]; backend?: string } & Record<string, unknown>;

/** Validates the flags against the config schema; errors name the flag (`--eps value 1: …`). */
export async function checkEvalFlags(args: FlagArgs): Promise<string[]> {
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
export function evalOverrides(args: FlagArgs): string[] {
  for (const spec of args.set) {
    if (!spec.startsWith('eval.'))
      throw new InputError(
        `--set ${spec}: lcconv eval only overrides eval.* keys (the run's other settings are fixed by its directory)`,
      );
  }
  const overrides = [
    ...EVAL_FLAGS.flatMap((f) => {
      const value = args[f.flag];
      if (value === undefined) return [];
      return [f.form === 'list' ? listOverride(keyOf(f), value as string[]) : `eval.${keyOf(f)}=${value}`];
    }),
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

/** yargs options of the eval flags: a list takes repeated and comma-separated values; no yargs default, so the run's config stays the base. */
function evalFlagOptions(y: Argv): Argv {
  for (const f of EVAL_FLAGS)
    y.option(f.flag, {
      type: f.form === 'list' ? 'string' : f.form,
      ...(f.form === 'list' ? { array: true } : {}),
      describe: `${f.describe}${f.form === 'list' ? ' (comma-separated; none = empty)' : ''} (the run's ${f.key}; default ${f.default ?? 'unset'})`,
    });
  return y;
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
    evalFlagOptions(y)
      .positional('dir', {
        type: 'string',
        demandOption: true,
        describe: 'a run directory, or an experiment or sweep folder of runs',
      })
      .group(
        EVAL_FLAGS.map((f) => f.flag),
        "Evaluation (each sets the eval.* key of the same meaning, over the run config's):",
      )
      .option('full', {
        type: 'boolean',
        default: false,
        describe:
          "the paper's protocol: every image, fgsm/pgd/pgd_l2 at every usual ε, every corruption at severities 1-5 (far slower than the default on a CPU); other flags still override",
      })
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
    const out = args.json ? process.stderr : process.stdout;
    const say = (line: string) => (args.quiet ? undefined : out.write(`${line}\n`));
    // The interrupt policy's at-once form: each row is in eval.csv (written whole) as soon as it is
    // measured, so Ctrl-C ends the command after the current batch (evaluate yields after each).
    handleInterrupts(
      (line) => process.stderr.write(`${line}\n`),
      undefined,
      'evaluation stopped; every row measured so far is in eval.csv, and a rerun reuses it',
    );
    const { evaluateFolder, evaluationsJson, formatEvaluation, settingOf } = await import('../../eval/run-eval.js');
    const { chooseBackendFor } = await import('../backend-banner.js');
    const { results, skipped } = await evaluateFolder(args.dir, overrides, {
      say,
      chooseBackend: (config) => chooseBackendFor(config, say),
      progress: () => settingsProgress(out, args.quiet, settingOf),
      onResult: (result) => (args.json ? undefined : process.stdout.write(`${formatEvaluation(result)}\n\n`)),
    });
    if (args.json) process.stdout.write(evaluationsJson(results));
    if (skipped.length) throw new SomeRunsSkipped(skipped); // after every healthy run is evaluated and written
  },
};
