// Writes src/config/flag-table.ts from the config schema (run after `npm run build`): the flags of
// `lcconv eval` and `lcconv sweep` that set config keys, as data for help that never loads zod.
import { writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { flagTableModule } from '../dist/src/config/reference.js';

const file = new URL('../src/config/flag-table.ts', import.meta.url);
writeFileSync(file, flagTableModule());
execFileSync('npx', ['biome', 'format', '--write', file.pathname], { stdio: 'inherit' });
