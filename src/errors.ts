/**
 * Errors a user can fix (bad config, missing or malformed data). The CLI prints them as one line and
 * exits with code 2; any other thrown Error is a bug or a failed run (exit 1, stack with --verbose).
 */
export class InputError extends Error {
  override name = 'InputError';
}

/**
 * A command-line flag that does not fit (e.g. `--layers` naming no layer): a folder command stops
 * at it, rather than skip every run as if each were damaged.
 */
export class FlagError extends InputError {
  override name = 'FlagError';
}

/**
 * Raised at the end of a folder command that went on past damaged runs (src/runs/scan.ts): one
 * line naming each with its cause (exit 1). What the command could do for the healthy runs is done
 * and written.
 */
export class SomeRunsSkipped extends Error {
  override name = 'SomeRunsSkipped';
  constructor(readonly skipped: { name: string; cause: string }[]) {
    super(`${skipped.length} run(s) skipped: ${skipped.map((s) => `${s.name} (${s.cause})`).join('; ')}`);
  }
}

/** A config problem, located by file, line (when YAML gives one) and key path. */
export class ConfigError extends InputError {
  override name = 'ConfigError';
  constructor(
    readonly where: { file?: string; line?: number; keyPath?: string },
    readonly problem: string,
  ) {
    super(ConfigError.format(where, problem));
  }

  static format(where: { file?: string; line?: number; keyPath?: string }, problem: string): string {
    const loc = where.file ? `${where.file}${where.line ? `:${where.line}` : ''}` : '';
    const key = where.keyPath ?? '';
    return [loc, key].filter(Boolean).join(' ') + (loc || key ? ': ' : '') + problem;
  }
}

/** The first line of an error's message (native and GPU errors can run to many lines). */
export function firstLine(err: unknown): string {
  const msg = err instanceof Error ? err.message : String(err);
  return msg.split('\n')[0] ?? msg;
}

/**
 * Work a Ctrl-C or SIGTERM stopped where no JS listener could run (a child process building the
 * image cache while this one waits for it): one line saying what is kept, exit 130, as the
 * interrupt policy (src/cli/interrupt.ts) ends every other interrupted command.
 */
export class Interrupted extends Error {
  override name = 'Interrupted';
}
