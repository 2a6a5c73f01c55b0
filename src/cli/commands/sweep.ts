/**
 * `lcconv sweep <config>`: list (--dry-run) or run every trial of the config's `sweep:` grid. Trials
 * that finished are skipped, unfinished ones resume from their checkpoint, failures are recorded and
 * the others go on; at the end the report is written. Local executor: N worker processes.
 */
import type { ArgumentsCamelCase, Argv, CommandModule } from 'yargs';
import { loadConfigFile } from '../../config/load.js';
import { InputError } from '../../errors.js';
import { handleInterrupts } from '../interrupt.js';

export interface SweepArgs {
  config: string;
  set: string[];
  workers: number;
  devices?: string;
  dryRun: boolean;
  status: boolean;
}

export const sweepCommand: CommandModule<object, SweepArgs> = {
  command: 'sweep <config>',
  describe: "run every trial of a config's sweep: grid (resumable), then write the report",
  builder: (y: Argv) =>
    y
      .positional('config', { type: 'string', demandOption: true, describe: 'YAML experiment with a sweep: block' })
      .option('set', { type: 'string', array: true, default: [], describe: 'override a config key (repeatable)' })
      .option('workers', { type: 'number', default: 1, describe: 'trials run at once, each in its own process' })
      .option('devices', { type: 'string', describe: 'GPU ids for the workers, e.g. 0,1 (worker i gets CUDA_VISIBLE_DEVICES=ids[i mod n]; tfjs-node-gpu only)' })
      .option('dry-run', { type: 'boolean', default: false, describe: 'list the trials and their state; run nothing' })
      .option('status', { type: 'boolean', default: false, describe: 'show which trials are finished, running, failed or pending' }) as unknown as Argv<SweepArgs>,
  handler: async (args: ArgumentsCamelCase<SweepArgs>) => {
    if (!Number.isInteger(args.workers) || args.workers < 1) throw new InputError(`--workers: expected an integer >= 1, got ${args.workers}`);
    const { config } = loadConfigFile(args.config, args.set);
    const { sweepTrials, trialState, formatTrials, writeConfigCopy } = await import('../../sweep/trials.js');
    const trials = sweepTrials(config);
    const states = trials.map((t) => trialState(t));
    const say = (line: string) => process.stdout.write(`${line}\n`);
    const describeState = (s: (typeof states)[number]) =>
      s.state + (s.checkpointEpoch ? ` (checkpoint at epoch ${s.checkpointEpoch}/${config.train.epochs})` : '') + (s.error ? `: ${s.error.message}` : '');
    const counts = (name: string) => states.filter((s) => s.state === name).length;
    const tally = `${trials.length} trials: ${counts('finished')} finished, ${counts('running')} running, ${counts('failed')} failed, ${counts('pending')} pending`;

    if (args.dryRun || args.status) {
      say(formatTrials(trials, new Map(states.map((s, i) => [i, describeState(s)]))));
      say(tally);
      return;
    }
    const todo = trials.filter((_, i) => states[i]!.state !== 'finished' && states[i]!.state !== 'running');
    const configCopy = writeConfigCopy(config, args.config);
    say(`${tally}; running ${todo.length} with ${Math.min(args.workers, Math.max(todo.length, 1))} worker(s); config copy ${configCopy}`);
    const { runLocal, killChildren } = await import('../../sweep/local.js');
    const interrupt = handleInterrupts(say, killChildren);
    const started = performance.now();
    let result;
    try {
      result = await runLocal(todo, { configCopy, workers: args.workers, devices: args.devices?.split(','), log: say, signal: interrupt.signal });
    } finally {
      interrupt.dispose();
    }
    say(`sweep: ${result.finished.length} finished, ${result.failed.length} failed, ${result.interrupted.length} stopped in ${((performance.now() - started) / 1000).toFixed(1)} s`);

    const { writeReport } = await import('../../results/report.js');
    const { formatComparison } = await import('../../results/comparison.js');
    const { experimentDir } = await import('../../results/run-dir.js');
    const report = await writeReport(experimentDir(config));
    if (report.runs.length) say(`\n${formatComparison(report.rows)}\n\nreport: ${report.files.join(', ')}`);
    if (result.interrupted.length) {
      say(`stopped: rerun 'lcconv sweep ${args.config}' to resume`);
      process.exitCode = 130;
    } else if (result.failed.length) {
      throw new Error(`${result.failed.length} of ${todo.length} trials failed: ${result.failed.map((t) => `${t.index} (${t.identity.dir}/error.json)`).join(', ')}`);
    }
  },
};
