/** captureStderr holds what is written to fd 2 itself (as native code writes), and restores it. */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';
import { stderrCaptureAvailable } from '../../src/backends/stderr-capture.js';
import { PACKAGE_ROOT } from '../../src/provenance.js';

const skip = stderrCaptureAvailable()
  ? false
  : 'native/build/Release/lcconv_stdio.node not built (npm run build:native)';

test('fd 2 writes inside the window are captured, later ones reach stderr again', { skip }, () => {
  // In a child, so the test runner's own stderr is never redirected.
  const module = join(PACKAGE_ROOT, 'dist', 'src', 'backends', 'stderr-capture.js');
  const script = `
    import { writeSync } from 'node:fs';
    const { captureStderr } = await import(${JSON.stringify(module)});
    writeSync(2, 'before\\n');
    const { value, captured } = await captureStderr(async () => {
      writeSync(2, 'held 1\\n');
      await new Promise((r) => setTimeout(r, 10)); // the window spans awaits, as Dawn's start does
      writeSync(2, 'held 2\\n');
      return 42;
    });
    writeSync(2, 'after\\n');
    process.stdout.write(JSON.stringify({ value, captured }));
    await captureStderr(async () => { writeSync(2, 'explains the failure\\n'); throw new Error('boom'); }).catch(() => {});
  `;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout), { value: 42, captured: 'held 1\nheld 2\n' });
  // What was written while `f` failed is printed, not lost.
  assert.equal(r.stderr, 'before\nafter\nexplains the failure\n');
});
