/**
 * `lcconv report <dir>`: aggregate every finished run in an experiment folder (results/<name>/)
 * into report.csv, report.md and plots (SVG + PNG), and print the table.
 */
import type { ArgumentsCamelCase, Argv, CommandModule } from 'yargs';
import { existsSync } from 'node:fs';
import { InputError, SomeRunsSkipped, firstLine } from '../../errors.js';

interface ReportArgs {
  dir: string;
  plots: boolean;
}

export const reportCommand: CommandModule<object, ReportArgs> = {
  command: 'report <dir>',
  describe: 'aggregate the runs of an experiment folder into report.csv, report.md and plots',
  builder: (y: Argv) =>
    y
      .positional('dir', {
        type: 'string',
        demandOption: true,
        describe: 'experiment folder, e.g. results/kernel-sweep',
      })
      .option('plots', { type: 'boolean', default: true, describe: 'render the plots (--no-plots skips them)' })
      .example('$0 report results/smoke-sweep', 'report.csv, report.md and plots of every finished run there')
      .example('$0 report results/smoke --no-plots', 'tables only') as unknown as Argv<ReportArgs>,
  handler: async (args: ArgumentsCamelCase<ReportArgs>) => {
    if (!existsSync(args.dir))
      throw new InputError(`${args.dir}: no such folder (give an experiment folder such as results/<name>)`);
    const { writeReport } = await import('../../results/report.js');
    const { formatComparison } = await import('../../results/comparison.js');
    const report = await writeReport(args.dir, { plots: args.plots });
    if (report.runs.length === 0) {
      // Say why: the runs that are there failed (each with its cause) or are unfinished.
      const why = [
        ...report.damaged.map((d) => `${d.name} is damaged: ${d.cause}`),
        ...report.failed.map((f) => `${f.run} failed: ${firstLine(f.message)}`),
        ...report.unfinished.map((u) => `${u} is unfinished`),
      ];
      throw new InputError(
        `${args.dir}: no finished run (a run directory with summary.json) to report${why.length ? `; ${why.join('; ')}` : ''}`,
      );
    }
    process.stdout.write(`${formatComparison(report.rows, report.accuracy)}\n\n`);
    if (report.failed.length) process.stdout.write(`failed: ${report.failed.map((f) => f.run).join(', ')}\n`);
    if (report.unfinished.length) process.stdout.write(`unfinished: ${report.unfinished.join(', ')}\n`);
    process.stdout.write(`${report.runs.length} runs reported; wrote ${report.files.join(', ')}\n`);
    if (report.damaged.length) {
      throw new SomeRunsSkipped(report.damaged); // the report of the healthy runs is written
    }
  },
};
