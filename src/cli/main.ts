/**
 * lcconv's command line: parses with yargs and maps errors to exit codes — 2 for input a user can
 * fix (printed as one line), 1 for a failed run (stack only with --verbose).
 */
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { InputError, Interrupted, SomeRunsSkipped } from '../errors.js';
import { StorageError } from '../fs-safety.js';
import { stopDisplays, wasInterrupted } from './interrupt.js';
import { analyzeCommand } from './commands/analyze.js';
import { benchCommand } from './commands/bench.js';
import { configCommand } from './commands/config.js';
import { dataCommand } from './commands/data.js';
import { doctorCommand } from './commands/doctor.js';
import { evalCommand } from './commands/eval.js';
import { exportCommand } from './commands/export.js';
import { reportCommand } from './commands/report.js';
import { runCommand } from './commands/run.js';
import { sweepCommand } from './commands/sweep.js';

export function buildCli(argv: string[]) {
  return yargs(argv)
    .scriptName('lcconv')
    .usage(
      '$0 <command> [options]\n\nExperiments for "The Power of Linear Combinations: Learning with Random Convolutions".',
    )
    .command(runCommand)
    .command(configCommand)
    .command(sweepCommand)
    .command(reportCommand)
    .command(analyzeCommand)
    .command(evalCommand)
    .command(exportCommand)
    .command(dataCommand)
    .command(doctorCommand)
    .command(benchCommand)
    .example('$0 run', 'the built-in default experiment (configs/smoke.yaml; its measured time: README)')
    .example('$0 run configs/smoke.yaml --set model.kernel_size=5', 'an experiment file, with a key overridden')
    .example('$0 sweep configs/smoke-sweep.yaml --workers 2', 'a grid of trials, then the report')
    .example('$0 <command> --help', 'options and examples of a command')
    .option('verbose', { type: 'boolean', default: false, describe: 'show stack traces of failures' })
    .demandCommand(1, 'name a command, e.g. lcconv run configs/smoke.yaml')
    .strict()
    .help()
    .version()
    .fail((msg, err) => {
      throw err ?? new InputError(msg.replace(/\s*\n\s*/g, ' ')); // yargs words some errors on several lines
    });
}

export async function main(argv = hideBin(process.argv)): Promise<void> {
  const verbose = argv.includes('--verbose');
  if (argv.length === 0) {
    buildCli(argv).showHelp('log'); // `lcconv` alone: what it can do, not an error
    return;
  }
  process.on('exit', stopDisplays);
  try {
    await buildCli(argv).parseAsync();
  } catch (err) {
    if (err instanceof InputError) {
      process.stderr.write(`lcconv: ${err.message}\n`);
      process.exitCode = 2;
    } else if (err instanceof Interrupted) {
      process.stderr.write(`lcconv: ${err.message}\n`);
      process.exitCode = 130;
    } else if (err instanceof SomeRunsSkipped) {
      // The healthy runs were done; this line names each damaged one with its cause.
      process.stderr.write(`lcconv: ${err.message}\n`);
      process.exitCode = 1;
    } else if (err instanceof StorageError && !verbose) {
      // The machine's storage refused (full, read-only…): the line names path and cause; no stack helps.
      process.stderr.write(`lcconv: ${err.message}\n`);
      process.exitCode = 1;
    } else {
      const e = err instanceof Error ? err : new Error(String(err));
      process.stderr.write(
        verbose ? `${e.stack}\n` : `lcconv: failed: ${e.message} (rerun with --verbose for the stack)\n`,
      );
      process.exitCode = 1;
    }
  }
  if (wasInterrupted()) {
    // Stopped by Ctrl-C or SIGTERM and done with what it had to finish: exit now, whatever handle
    // (a display's timer, a device, stdin) would keep Node alive.
    stopDisplays();
    process.exit(process.exitCode ?? 130);
  }
}
