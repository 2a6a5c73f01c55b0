/** `node --import <this> bin/lcconv.js …`: runs the CLI on a disk that fills up (see full-disk.ts); LCCONV_TEST_FULL_DISK='{"match": "<regex>", "after": N}'. */
import { fillDisk } from './full-disk.js';

const spec = JSON.parse(process.env.LCCONV_TEST_FULL_DISK || '{}') as { match?: string; after?: number };
if (spec.match) fillDisk({ match: new RegExp(spec.match), after: spec.after });
