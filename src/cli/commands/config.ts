/**
 * `lcconv config [config]`: print a config fully resolved (defaults filled, --set applied), or
 * with --reference the reference of every key, generated from the schema.
 */
import type { ArgumentsCamelCase, Argv, CommandModule } from 'yargs';

interface ConfigArgs {
  config?: string;
  set: string[];
  reference: boolean;
}

export const configCommand: CommandModule<object, ConfigArgs> = {
  command: 'config [config]',
  describe: 'print a resolved config, or the reference of all keys',
  builder: (y: Argv) =>
    y
      .positional('config', { type: 'string', describe: 'YAML experiment (default: all defaults)' })
      .option('set', {
        type: 'string',
        array: true,
        default: [],
        describe: 'override a key, e.g. --set model.kernel_size=5',
      })
      .option('reference', { type: 'boolean', default: false, describe: 'print the config reference (Markdown)' })
      .example('$0 config configs/smoke.yaml --set train.epochs=2', 'the resolved config, every default filled in')
      .example(
        '$0 config --reference > docs/config.md',
        'regenerate the reference of every key',
      ) as unknown as Argv<ConfigArgs>,
  handler: async (args: ArgumentsCamelCase<ConfigArgs>) => {
    if (args.reference) {
      const { configReferenceMarkdown } = await import('../../config/reference.js');
      process.stdout.write(configReferenceMarkdown());
      return;
    }
    const { loadConfigFile, loadConfigText } = await import('../../config/load.js');
    const { stringify } = await import('yaml');
    const { config } = args.config ? loadConfigFile(args.config, args.set) : loadConfigText('{}', undefined, args.set);
    process.stdout.write(stringify(config));
  },
};
