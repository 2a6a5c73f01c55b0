/**
 * Set-up and runner for tfjs-core's own Jasmine op tests (shipped in @tensorflow/tfjs-core/dist as
 * ES modules, run by tfjs's backends the same way) against 'cpu-native'. tfjs-core-suite.test.ts
 * bundles this module, then the chosen `*_test.js` files, then a call to `run()`, with esbuild into
 * one file (Node cannot load the suite's extensionless imports; the bundle holds one tfjs-core).
 * Importing this module installs Jasmine's globals and the test environment, which the test
 * files need while they load; `run()` prints one JSON line: spec counts and every failure.
 */
// What tfjs-core's own test set-up (and the @tensorflow/tfjs umbrella) registers: every op's
// gradient and the chained tensor methods (x.add(y)).
import '@tensorflow/tfjs-core/dist/register_all_gradients.js';
import '@tensorflow/tfjs-core/dist/public/chained_ops/register_all_chained_ops.js';
import { setTestEnvs } from '@tensorflow/tfjs-core/dist/jasmine_util.js';
import jasmineRequire from 'jasmine-core';
import { loadCpuNative } from '../../src/backends/cpu-native/index.js';

interface SpecResult {
  fullName: string;
  status: string;
  failedExpectations: { message: string }[];
}
interface JasmineEnv {
  addReporter(r: { specDone(r: SpecResult): void }): void;
  configure(c: { random: boolean }): void;
  execute(): Promise<unknown>;
}

const jasmine = jasmineRequire.boot() as { getEnv(): JasmineEnv };
// The backend itself is set by each suite's beforeAll, so it may load after the test files.
setTestEnvs([{ name: 'cpu-native', backendName: 'cpu-native', isDataSync: true }]);

export async function run(): Promise<void> {
  const probe = await loadCpuNative({ addonPath: process.env.LCCONV_NATIVE_ADDON });
  if (!probe.ok) {
    console.log(JSON.stringify({ skip: probe.reason }));
    return;
  }
  const counts: Record<string, number> = {};
  const failures: { spec: string; messages: string[] }[] = [];
  const env = jasmine.getEnv();
  env.configure({ random: false });
  env.addReporter({
    specDone(r) {
      counts[r.status] = (counts[r.status] ?? 0) + 1;
      if (r.status === 'failed')
        failures.push({ spec: r.fullName, messages: r.failedExpectations.map((e) => e.message.slice(0, 300)) });
    },
  });
  await env.execute();
  console.log(JSON.stringify({ counts, failures }));
}
