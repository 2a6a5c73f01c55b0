/**
 * Download round trips against a loopback HTTP server serving a small generated CIFAR-10-format
 * archive: install + MD5 + extraction + load; and every failure (wrong MD5, dropped connection,
 * unreadable archive) leaving nothing under the root and exiting 2 with one line.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import * as tar from 'tar';
import { CIFAR10_LAYOUT, loadCifar10, type CifarLayout } from '../../src/data/cifar.js';
import { downloadDataset } from '../../src/data/download.js';
import { InputError } from '../../src/errors.js';
import { PACKAGE_ROOT } from '../../src/provenance.js';
import { tempDir } from '../fixtures.js';

// The official layout with 3 records per file instead of 10,000 (the CLI always uses the official one).
const TINY: CifarLayout = { ...CIFAR10_LAYOUT, trainRecordsPerFile: 3, testRecords: 3 };
const RECORD = 1 + 3072;

/** A CIFAR-10 record: label, then channel-major pixels where pixel p of channel c is (record·7 + c·31 + p) mod 256. */
function record(n: number, label: number): Buffer {
  const b = Buffer.alloc(RECORD);
  b[0] = label;
  for (let c = 0; c < 3; c++) for (let p = 0; p < 1024; p++) b[1 + c * 1024 + p] = (n * 7 + c * 31 + p) % 256;
  return b;
}

let server: Server;
let base = '';
let archive: Buffer;
let archiveMd5 = '';
const served: Record<string, (res: import('node:http').ServerResponse) => void> = {};

before(async () => {
  const src = tempDir('cifar-src');
  const dir = join(src, TINY.dir);
  mkdirSync(dir);
  let n = 0;
  for (const f of [...TINY.trainFiles, TINY.testFile])
    writeFileSync(join(dir, f), Buffer.concat([0, 1, 2].map((r) => record(n++, (n + r) % 10))));
  const file = join(src, 'cifar.tar.gz');
  await tar.c({ gzip: true, file, cwd: src }, [TINY.dir]);
  archive = readFileSync(file);
  archiveMd5 = createHash('md5').update(archive).digest('hex');

  const full = (res: import('node:http').ServerResponse, body: Buffer) => {
    res.writeHead(200, { 'content-length': body.length, 'content-type': 'application/gzip' });
    res.end(body);
  };
  served['/cifar-10-binary.tar.gz'] = (res) => full(res, archive);
  served['/garbage.tar.gz'] = (res) => full(res, Buffer.from('this is not a tar.gz archive'));
  served['/drop.tar.gz'] = (res) => {
    res.writeHead(200, { 'content-length': archive.length });
    res.write(archive.subarray(0, archive.length >> 1), () => setTimeout(() => res.socket?.destroy(), 20));
  };
  served['/stall.tar.gz'] = (res) => {
    res.writeHead(200, { 'content-length': archive.length });
    res.write(archive.subarray(0, 1000)); // then nothing: the client is interrupted by the test
  };
  server = createServer((req, res) => {
    const handler = served[req.url ?? ''];
    if (handler) handler(res);
    else res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

after(() => {
  server.closeAllConnections();
  server.close();
});

/** The CLI as a child process; async, so this process's server keeps answering. */
function lcconv(
  args: string[],
  env: Record<string, string> = {},
  onSpawn?: (child: import('node:child_process').ChildProcess) => void,
): Promise<{ status: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [join(PACKAGE_ROOT, 'bin', 'lcconv.js'), ...args], {
      env: { ...process.env, CI: 'true', ...env },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (status, signal) => resolve({ status, signal, stdout, stderr }));
    onSpawn?.(child);
  });
}

const errorLine = (stderr: string) =>
  stderr
    .trim()
    .split('\n')
    .filter((l) => l.startsWith('lcconv:'));

test('download round trip: fetch, MD5, extract, install, load; a second call keeps the complete copy', async () => {
  const root = join(tempDir('dl'), 'data');
  const progress: number[] = [];
  const result = await downloadDataset('cifar10', {
    root,
    url: `${base}/cifar-10-binary.tar.gz`,
    md5: archiveMd5,
    layout: TINY,
    onProgress: (r) => progress.push(r),
  });
  assert.equal(result.status, 'downloaded');
  assert.equal(result.bytes, archive.length);
  assert.equal(progress.at(-1), archive.length);
  assert.deepEqual(readdirSync(root), [TINY.dir], 'only the dataset folder, no temporary folder left');

  const data = loadCifar10(root, TINY);
  assert.equal(data.train.count, 15);
  assert.equal(data.test.count, 3);
  // Record 4 (file 2, record 1): channel-major on disk, NHWC in memory.
  const p = 5 * 32 + 9;
  for (let c = 0; c < 3; c++) assert.equal(data.train.images[4 * 3072 + p * 3 + c], (4 * 7 + c * 31 + p) % 256);
  assert.equal(data.train.labels[4], (5 + 1) % 10);

  const again = await downloadDataset('cifar10', {
    root,
    url: `${base}/missing.tar.gz`,
    md5: archiveMd5,
    layout: TINY,
  });
  assert.equal(again.status, 'present', 'no second fetch (the URL would 404)');
});

test('CLI with LCCONV_MIRROR: the official MD5 does not match the generated archive → one line, exit 2, nothing left', async () => {
  const root = join(tempDir('dl-md5'), 'data');
  const r = await lcconv(['data', 'download', 'cifar10', '--root', root], { LCCONV_MIRROR: `${base}/` });
  assert.equal(r.status, 2, r.stderr);
  const lines = errorLine(r.stderr);
  assert.equal(lines.length, 1, r.stderr);
  assert.match(
    lines[0]!,
    new RegExp(
      `${base}/cifar-10-binary\\.tar\\.gz: MD5 mismatch: expected c32a1d4ab5d03f1284b67883e8d87530, got ${archiveMd5}`,
    ),
  );
  assert.doesNotMatch(r.stderr, /at .*\.js:\d+/);
  assert.deepEqual(readdirSync(root), [], 'no archive, no partial folder, no dataset folder');
});

test('CLI: a connection dropped mid-transfer → one line, exit 2, nothing left', async () => {
  const root = join(tempDir('dl-drop'), 'data');
  const r = await lcconv(['data', 'download', 'cifar10', '--root', root, '--url', `${base}/drop.tar.gz`]);
  assert.equal(r.status, 2, r.stderr);
  const lines = errorLine(r.stderr);
  assert.equal(lines.length, 1, r.stderr);
  assert.match(lines[0]!, /drop\.tar\.gz: connection (lost|closed) after [\d,]+ (of [\d,]+ )?bytes/);
  assert.deepEqual(readdirSync(root), []);
});

test('an unreadable archive (right MD5) and an HTTP 404 are one-line errors and leave nothing', async () => {
  const root = join(tempDir('dl-bad'), 'data');
  const garbageMd5 = createHash('md5').update('this is not a tar.gz archive').digest('hex');
  await assert.rejects(
    downloadDataset('cifar10', { root, url: `${base}/garbage.tar.gz`, md5: garbageMd5, layout: TINY }),
    (e: Error) => e instanceof InputError && /garbage\.tar\.gz: unreadable archive/.test(e.message),
  );
  await assert.rejects(
    downloadDataset('cifar10', { root, url: `${base}/nope.tar.gz`, layout: TINY }),
    (e: Error) => e instanceof InputError && /nope\.tar\.gz: HTTP 404/.test(e.message),
  );
  // An archive that is valid but lacks the expected files (the official layout wants 10,000 records per file).
  await assert.rejects(
    downloadDataset('cifar10', { root, url: `${base}/cifar-10-binary.tar.gz`, md5: archiveMd5 }),
    (e: Error) =>
      e instanceof InputError &&
      /does not hold the expected cifar-10-batches-bin\/ .*expected 30,730,000 bytes, found 9,219/.test(e.message),
  );
  assert.deepEqual(readdirSync(root), []);
  assert.equal(existsSync(join(root, TINY.dir)), false);
});

test('data list reports a tiny generated CIFAR-10 copy as invalid (wrong sizes) and missing sets as missing', async () => {
  const root = join(tempDir('dl-list'), 'data');
  await downloadDataset('cifar10', { root, url: `${base}/cifar-10-binary.tar.gz`, md5: archiveMd5, layout: TINY });
  const r = await lcconv(['data', 'list', '--root', root, '--json']);
  assert.equal(r.status, 0, r.stderr);
  const rows = JSON.parse(r.stdout) as { name: string; status: string; detail: string }[];
  const by = Object.fromEntries(rows.map((x) => [x.name, x]));
  assert.equal(by.cifar10!.status, 'invalid');
  assert.match(by.cifar10!.detail, /data_batch_1\.bin: expected 30,730,000 bytes, found 9,219/);
  assert.equal(by.cifar100!.status, 'missing');
  assert.equal(by['fashion-mnist']!.status, 'ok');
});

test('CLI interrupted (SIGINT) mid-download: the temporary folder is removed', async () => {
  const root = join(tempDir('dl-int'), 'data');
  const r = await lcconv(
    ['data', 'download', 'cifar10', '--root', root, '--url', `${base}/stall.tar.gz`],
    {},
    (child) => {
      const poll = setInterval(() => {
        if (existsSync(root) && readdirSync(root).some((f) => f.startsWith('.cifar-10-batches-bin.tmp-'))) {
          clearInterval(poll);
          setTimeout(() => child.kill('SIGINT'), 200);
        }
      }, 50);
    },
  );
  assert.equal(r.signal, 'SIGINT', r.stderr);
  assert.deepEqual(readdirSync(root), []);
});

test('CLI: a root where no folder can be created (/proc/nope) is one line and exit 2 at once, not a spinning mkdir', {
  skip: !existsSync('/proc/self') && 'no /proc here',
}, () => {
  const r = spawnSync(
    process.execPath,
    [join(PACKAGE_ROOT, 'bin', 'lcconv.js'), 'data', 'download', 'cifar10', '--root', '/proc/nope'],
    { encoding: 'utf8', timeout: 30_000 },
  );
  assert.equal(r.signal, null, 'no timeout');
  assert.equal(r.status, 2);
  assert.match(r.stderr, /^lcconv: \/proc\/nope: cannot create this folder: no such file or folder \(ENOENT\)$/m);
});

test("a killed download's temporary folder is removed by the next download; a live download's is left alone", async () => {
  const root = join(tempDir('dl-leftover'), 'data');
  const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], {
    encoding: 'utf8',
  }).stdout;
  const leftover = join(root, `.${TINY.dir}.tmp-${hostname()}-${dead}`);
  const live = join(root, `.${TINY.dir}.tmp-${hostname()}-${process.ppid}`);
  for (const d of [leftover, live]) mkdirSync(join(d, TINY.dir), { recursive: true });
  await downloadDataset('cifar10', { root, url: `${base}/cifar-10-binary.tar.gz`, md5: archiveMd5, layout: TINY });
  assert.deepEqual(readdirSync(root).sort(), [`.${TINY.dir}.tmp-${hostname()}-${process.ppid}`, TINY.dir].sort());
});

test('CLI: a disk that fills during the download → the storage fault as every writer gives it (one line, exit 1), nothing left', async () => {
  const root = join(tempDir('dl-full'), 'data');
  const preload = new URL('../full-disk-preload.js', import.meta.url).pathname;
  const r = await new Promise<{ status: number | null; stderr: string }>((resolve) => {
    const child = spawn(
      process.execPath,
      [
        '--import',
        preload,
        join(PACKAGE_ROOT, 'bin', 'lcconv.js'),
        'data',
        'download',
        'cifar10',
        '--root',
        root,
        '--url',
        `${base}/cifar-10-binary.tar.gz`,
      ],
      { env: { ...process.env, CI: 'true', LCCONV_TEST_FULL_DISK: JSON.stringify({ match: '/archive$' }) } },
    );
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (status) => resolve({ status, stderr }));
  });
  assert.equal(r.status, 1, r.stderr);
  const lines = errorLine(r.stderr);
  assert.equal(lines.length, 1, r.stderr);
  assert.match(lines[0]!, /\/archive: cannot write: no space left on device \(ENOSPC\)$/);
  assert.deepEqual(readdirSync(root), [], 'no archive, no partial folder');
});

test('a server that stops sending ends the download after the stall limit (one line, nothing left), not never', async () => {
  const root = join(tempDir('dl-stall'), 'data');
  const started = performance.now();
  await assert.rejects(
    downloadDataset('cifar10', { root, url: `${base}/stall.tar.gz`, md5: archiveMd5, layout: TINY, stallMs: 300 }),
    (err: Error) =>
      err instanceof InputError &&
      /stall\.tar\.gz: connection stalled after 1,000 of [\d,]+ bytes \(no data from the server for 0\.3 s\)$/.test(
        err.message,
      ),
  );
  assert.ok(performance.now() - started < 10_000, 'ended by the stall limit');
  assert.deepEqual(readdirSync(root), [], 'no archive, no partial folder');
});
