/** The byte scanner that reads the fashion-mnist package's JSON without JSON.parse's memory peak. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { scanPixelRows } from '../../src/data/mnist-package.js';

const row = (seed: number) => Array.from({ length: 784 }, (_, i) => (i * 7 + seed * 13) % 256);
const bytes = (text: string) => new TextEncoder().encode(text);

test('scanPixelRows reads what JSON.parse reads (whitespace anywhere, empty rows dropped)', () => {
  const rows = [row(1), [], row(2)];
  for (const text of [
    JSON.stringify({ data: rows }),
    JSON.stringify({ data: rows }, null, 1),
    `\n${JSON.stringify({ data: rows }).replaceAll(',', ' ,\t')}\n`,
  ]) {
    const out = scanPixelRows(bytes(text));
    assert.ok(out, text.slice(0, 40));
    assert.deepEqual(
      out.map((r) => [...r]),
      [row(1), row(2)],
    );
  }
  assert.deepEqual(scanPixelRows(bytes('{"data":[]}')), []);
});

test('scanPixelRows declines anything else, so the JSON path can name the problem', () => {
  const good = row(3);
  const cases = {
    'value over 255': JSON.stringify({ data: [[...good.slice(1), 256]] }),
    fraction: JSON.stringify({ data: [[...good.slice(1), 0.5]] }),
    negative: JSON.stringify({ data: [[...good.slice(1), -1]] }),
    'short row': JSON.stringify({ data: [good.slice(1)] }),
    'long row': JSON.stringify({ data: [[...good, 1]] }),
    'other key': JSON.stringify({ images: [good] }),
    truncated: JSON.stringify({ data: [good] }).slice(0, -3),
    'trailing junk': `${JSON.stringify({ data: [good] })}x`,
  };
  for (const [what, text] of Object.entries(cases)) assert.equal(scanPixelRows(bytes(text)), null, what);
});
