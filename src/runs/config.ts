/**
 * A run's config.yaml read as a config: validated against today's schema (with `--set` style
 * overrides, e.g. lcconv eval's eval.* flags), for the commands that rebuild the run's network
 * (eval, analyze, export, resume). Listing runs reads the file as recorded instead
 * (readRecordedConfig in files.ts), so that it loads no schema and lists runs of older schemas too.
 */
import { loadConfigFile, type Override } from '../config/load.js';
import type { Config } from '../config/schema.js';
import { runPaths } from './files.js';

export function readRunConfig(dir: string, overrides: Override[] = []): Config {
  return loadConfigFile(runPaths(dir).config, overrides).config;
}
