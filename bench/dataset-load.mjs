// Load time and memory of a dataset: node --expose-gc bench/dataset-load.mjs [name]   (after npm run build)
import { loadConfigText } from '../dist/src/config/load.js';
import { loadDataset } from '../dist/src/data/index.js';
const mb = (b) => (b / 2 ** 20).toFixed(0);
const { config } = loadConfigText(`dataset: { name: ${process.argv[2] ?? 'fashion-mnist'} }`, undefined);
const before = process.memoryUsage();
const t0 = performance.now();
const d = loadDataset(config.dataset, 0);
const s = (performance.now() - t0) / 1000;
const after = process.memoryUsage();
global.gc?.();
const gc = process.memoryUsage();
console.log(
  `${d.name}: ${d.train.count} train / ${d.test.count} test ${d.height}x${d.width}x${d.channels}, load ${s.toFixed(2)} s`,
);
console.log(
  `RSS ${mb(before.rss)} -> ${mb(after.rss)} MiB; heap ${mb(before.heapUsed)} -> ${mb(after.heapUsed)} MiB, after GC ${mb(gc.heapUsed)} MiB; arrayBuffers after GC ${mb(gc.arrayBuffers)} MiB`,
);
