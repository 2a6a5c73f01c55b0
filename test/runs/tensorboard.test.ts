import assert from 'node:assert/strict';
import { closeSync, existsSync, openSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { EVENTS_FILE_PREFIX } from '../../src/runs/files.js';
import type { EpochRow, RunStart, RunSummary } from '../../src/runs/records.js';
import { TensorBoardWriter } from '../../src/runs/tensorboard.js';
import { spawnSync } from 'node:child_process';
import { lcconv, runStart, tempDir, tinyConfig, writeTinyConfig } from '../fixtures.js';

// ---- an independent reader: TFRecord framing with both CRCs checked, and a generic protobuf decoder

/** CRC32C bit by bit (no table), so the writer's table is checked rather than reused. */
function crc32cBitwise(bytes: Uint8Array): number {
  let crc = ~0 >>> 0;
  for (const b of bytes) {
    crc ^= b;
    for (let i = 0; i < 8; i++) crc = (crc >>> 1) ^ (0x82f63b78 & -(crc & 1));
  }
  return ~crc >>> 0;
}

const mask = (crc: number) => ((((crc >>> 15) | (crc << 17)) >>> 0) + 0xa282ead8) % 2 ** 32;

/** The records of a TFRecord file; fails on a bad length CRC, a bad data CRC or trailing bytes. */
function readRecords(file: string): Buffer[] {
  const bytes = readFileSync(file);
  const records: Buffer[] = [];
  let at = 0;
  while (at < bytes.length) {
    assert.ok(at + 12 <= bytes.length, `${file}: truncated header at byte ${at}`);
    const length = Number(bytes.readBigUInt64LE(at));
    assert.equal(
      bytes.readUInt32LE(at + 8),
      mask(crc32cBitwise(bytes.subarray(at, at + 8))),
      `length CRC of the record at byte ${at}`,
    );
    const data = bytes.subarray(at + 12, at + 12 + length);
    assert.equal(data.length, length, `${file}: truncated record at byte ${at}`);
    assert.equal(
      bytes.readUInt32LE(at + 12 + length),
      mask(crc32cBitwise(data)),
      `data CRC of the record at byte ${at}`,
    );
    records.push(data);
    at += 12 + length + 4;
  }
  return records;
}

type Field = { field: number; varint?: bigint; fixed64?: Buffer; fixed32?: Buffer; bytes?: Buffer };

function decode(buf: Buffer): Field[] {
  const fields: Field[] = [];
  let at = 0;
  const readVarint = () => {
    let value = 0n;
    for (let shift = 0n; ; shift += 7n) {
      const b = buf[at++]!;
      value |= BigInt(b & 0x7f) << shift;
      if (!(b & 0x80)) return value;
    }
  };
  while (at < buf.length) {
    const key = Number(readVarint());
    const field = key >> 3;
    switch (key & 7) {
      case 0:
        fields.push({ field, varint: readVarint() });
        break;
      case 1:
        fields.push({ field, fixed64: buf.subarray(at, at + 8) });
        at += 8;
        break;
      case 5:
        fields.push({ field, fixed32: buf.subarray(at, at + 4) });
        at += 4;
        break;
      case 2: {
        const n = Number(readVarint());
        fields.push({ field, bytes: buf.subarray(at, at + n) });
        at += n;
        break;
      }
      default:
        assert.fail(`wire type ${key & 7}`);
    }
  }
  assert.equal(at, buf.length, 'message overruns its record');
  return fields;
}

const one = (fields: Field[], n: number) => fields.find((f) => f.field === n);

interface DecodedEvent {
  wallTime: number;
  step: number;
  fileVersion?: string;
  sessionLogStatus?: number;
  scalars: Record<string, number>;
  texts: Record<string, { plugin: string; text: string }>;
  /** HParams plugin values: the plugin content (a serialized HParamsPluginData) by tag. */
  hparams: Record<string, Buffer>;
}

function decodeEvent(record: Buffer): DecodedEvent {
  const fields = decode(record);
  const event: DecodedEvent = {
    wallTime: one(fields, 1)!.fixed64!.readDoubleLE(),
    step: Number(one(fields, 2)?.varint ?? 0n),
    scalars: {},
    texts: {},
    hparams: {},
  };
  const version = one(fields, 3);
  if (version) event.fileVersion = version.bytes!.toString('utf8');
  const sessionLog = one(fields, 6);
  if (sessionLog) event.sessionLogStatus = Number(one(decode(sessionLog.bytes!), 1)!.varint);
  const summary = one(fields, 5);
  for (const value of summary ? decode(summary.bytes!).filter((f) => f.field === 1) : []) {
    const v = decode(value.bytes!);
    const tag = one(v, 1)!.bytes!.toString('utf8');
    const simple = one(v, 2);
    if (simple) event.scalars[tag] = simple.fixed32!.readFloatLE();
    const tensor = one(v, 8);
    if (tensor) {
      const t = decode(tensor.bytes!);
      const pluginData = decode(one(decode(one(v, 9)!.bytes!), 1)!.bytes!);
      const plugin = one(pluginData, 1)!.bytes!.toString('utf8');
      if (plugin === 'hparams') {
        // TensorBoard's own null tensor: DT_FLOAT, shape [0], no values.
        assert.equal(one(t, 1)!.varint, 1n, 'hparams tensor dtype is DT_FLOAT');
        assert.deepEqual(decode(one(t, 2)!.bytes!), [{ field: 2, bytes: Buffer.alloc(0) }], 'shape [0]');
        event.hparams[tag] = one(pluginData, 2)?.bytes ?? Buffer.alloc(0);
      } else {
        assert.equal(one(t, 1)!.varint, 7n, 'text tensor dtype is DT_STRING');
        event.texts[tag] = { plugin, text: one(t, 8)!.bytes!.toString('utf8') };
      }
    }
  }
  return event;
}

// ---- the HParams plugin's messages (tensorboard/plugins/hparams/plugin_data.proto, api.proto)

const str = (f: Field | undefined) => f?.bytes?.toString('utf8') ?? '';
const dbl = (f: Field | undefined) => f?.fixed64?.readDoubleLE() ?? 0;

/** google.protobuf.Value: number_value 2, string_value 3, bool_value 4. */
function protobufValue(buf: Buffer): number | string | boolean {
  const [f] = decode(buf);
  if (f!.field === 2) return f!.fixed64!.readDoubleLE();
  if (f!.field === 3) return f!.bytes!.toString('utf8');
  if (f!.field === 4) return f!.varint === 1n;
  assert.fail(`unexpected Value field ${f!.field}`);
}

interface HParamsData {
  version: number;
  experiment?: {
    description: string;
    hparams: { name: string; type: number; description: string }[];
    metrics: { group: string; tag: string; displayName: string; datasetType: number }[];
  };
  start?: { hparams: Map<string, number | string | boolean>; modelUri: string; group: string; startTime: number };
  end?: { status: number; endTime: number };
}

function decodeHParams(content: Buffer): HParamsData {
  const fields = decode(content);
  const out: HParamsData = { version: Number(one(fields, 1)?.varint ?? 0n) };
  const experiment = one(fields, 2);
  if (experiment) {
    const e = decode(experiment.bytes!);
    out.experiment = {
      description: str(one(e, 1)),
      hparams: e
        .filter((f) => f.field === 4)
        .map((f) => {
          const h = decode(f.bytes!);
          return { name: str(one(h, 1)), description: str(one(h, 3)), type: Number(one(h, 4)?.varint ?? 0n) };
        }),
      metrics: e
        .filter((f) => f.field === 5)
        .map((f) => {
          const m = decode(f.bytes!);
          const name = decode(one(m, 1)!.bytes!);
          return {
            group: str(one(name, 1)),
            tag: str(one(name, 2)),
            displayName: str(one(m, 3)),
            datasetType: Number(one(m, 5)?.varint ?? 0n),
          };
        }),
    };
  }
  const start = one(fields, 3);
  if (start) {
    const s = decode(start.bytes!);
    const hparams = new Map<string, number | string | boolean>();
    for (const entry of s.filter((f) => f.field === 1)) {
      const kv = decode(entry.bytes!);
      hparams.set(str(one(kv, 1)), protobufValue(one(kv, 2)!.bytes!));
    }
    out.start = { hparams, modelUri: str(one(s, 2)), group: str(one(s, 4)), startTime: dbl(one(s, 5)) };
  }
  const end = one(fields, 4);
  if (end) {
    const e = decode(end.bytes!);
    out.end = { status: Number(one(e, 1)?.varint ?? 0n), endTime: dbl(one(e, 2)) };
  }
  return out;
}

/** Every HParams record of a file, by tag, in order. */
const hparamsRecords = (events: DecodedEvent[], tag: string) =>
  events.filter((e) => e.hparams[tag]).map((e) => ({ step: e.step, data: decodeHParams(e.hparams[tag]!) }));

const eventsFiles = (dir: string) =>
  readdirSync(dir)
    .filter((n) => n.startsWith(EVENTS_FILE_PREFIX))
    .sort();
const readEvents = (file: string) => readRecords(file).map(decodeEvent);

// ---- the writer on a fake run

const STEPS = 4;
const startInfo = (dir: string, firstEpoch: number): RunStart =>
  runStart({
    run_id: 'fake',
    dir,
    seed: 7,
    lc_expansion: 2,
    epochs: 3,
    stepsPerEpoch: STEPS,
    batchSize: 16,
    counts: { total: 10, learnable: 6, frozen: 4, stored: 10, buffers: 0 },
    firstEpoch,
  });
const row = (epoch: number, val: boolean): EpochRow => ({
  epoch,
  lr: 0.05 / epoch,
  train_loss: 2 / epoch,
  train_acc: 0.3 * epoch,
  val_loss: val ? 1.5 / epoch : null,
  val_acc: val ? 0.25 * epoch : null,
  best_val_acc: null,
  epoch_seconds: 1,
  images_per_second: 100,
  learnable_params: 6,
  frozen_params: 4,
});

test('CRC32C of the standard check string (both the test reader and the mask)', () => {
  assert.equal(crc32cBitwise(Buffer.from('123456789')), 0xe3069283);
});

test('a fake run writes verified records: file version, config text, per-step and per-epoch scalars at global steps', () => {
  const dir = tempDir('tb');
  const config = tinyConfig(['freeze=frozen', 'model.lc_expansion=2']);
  const writer = new TensorBoardWriter(config, dir);
  writer.start(startInfo(dir, 1));
  writer.step({ epoch: 1, step: 2, steps: STEPS, lr: 0.04, loss: 2.5, acc: 0.2, imagesPerSecond: 10 });
  writer.step({ epoch: 1, step: 4, steps: STEPS, lr: 0.05, loss: 2.25, acc: 0.25, imagesPerSecond: 10 });
  writer.epoch(row(1, true));
  writer.step({ epoch: 2, step: 4, steps: STEPS, lr: 0.025, loss: 1.5, acc: 0.5, imagesPerSecond: 10 });
  writer.epoch(row(2, false));
  writer.close();

  const files = eventsFiles(dir);
  assert.equal(files.length, 1);
  assert.match(files[0]!, /^events\.out\.tfevents\.\d{10}\.[A-Za-z0-9._-]+$/);
  const events = readEvents(join(dir, files[0]!));
  assert.equal(events[0]!.fileVersion, 'brain.Event:2');
  assert.ok(Math.abs(events[0]!.wallTime - Date.now() / 1000) < 60);

  const config0 = events.find((e) => e.texts.config)!.texts.config!;
  assert.equal(config0.plugin, 'text');
  for (const line of [
    '| freeze | frozen |',
    '| model.kernel_size | 3 |',
    '| model.lc_expansion | 2 |',
    '| model.width | 4 |',
    '| train.lr | 0.05 |',
    '| seed | 7 |',
  ])
    assert.ok(config0.text.includes(line), line);

  const scalars = events.flatMap((e) =>
    Object.entries(e.scalars).map(([tag, value]) => ({ tag, step: e.step, value })),
  );
  const series = (tag: string) => scalars.filter((s) => s.tag === tag).map(({ step, value }) => [step, value]);
  assert.deepEqual(series('step/train_loss_epoch_mean'), [
    [2, 2.5],
    [4, 2.25],
    [8, 1.5],
  ]);
  assert.deepEqual(series('step/lr'), [
    [2, Math.fround(0.04)],
    [4, Math.fround(0.05)],
    [8, Math.fround(0.025)],
  ]);
  assert.deepEqual(series('epoch/train_loss'), [
    [4, 2],
    [8, 1],
  ]);
  assert.deepEqual(series('epoch/train_acc'), [
    [4, Math.fround(0.3)],
    [8, Math.fround(0.6)],
  ]);
  assert.deepEqual(series('epoch/val_loss'), [[4, 1.5]], 'no validation scalar on an epoch without evaluation');
  assert.deepEqual(series('epoch/val_acc'), [[4, 0.25]]);
  assert.deepEqual(series('epoch/lr'), [
    [4, Math.fround(0.05)],
    [8, Math.fround(0.025)],
  ]);
});

/** A fake run of `config` (start, one epoch, then `finish`); the HParams records of its file. */
function hparamsOfFakeRun(config: ReturnType<typeof tinyConfig>, finish: 'end' | 'failed' | 'interrupted' = 'end') {
  const dir = tempDir('tb-hparams');
  const writer = new TensorBoardWriter(config, dir);
  writer.start(startInfo(dir, 1));
  writer.epoch(row(1, true));
  if (finish === 'end') writer.end({} as RunSummary);
  else if (finish === 'failed') writer.failed();
  else writer.close();
  const events = readEvents(join(dir, eventsFiles(dir)[0]!));
  return {
    dir,
    experiment: hparamsRecords(events, '_hparams_/experiment'),
    start: hparamsRecords(events, '_hparams_/session_start_info'),
    end: hparamsRecords(events, '_hparams_/session_end_info'),
  };
}

test('HParams records: the experiment, the session start with the config values, the session end', () => {
  const config = tinyConfig(['freeze=frozen', 'model.lc_expansion=2', 'train.lr=0.025']);
  const { dir, experiment, start, end } = hparamsOfFakeRun(config);

  assert.equal(experiment.length, 1);
  const exp = experiment[0]!.data;
  assert.equal(exp.version, 0);
  const infos = new Map(exp.experiment!.hparams.map((h) => [h.name, h]));
  // Types: DATA_TYPE_STRING 1, BOOL 2, FLOAT64 3; the description is the schema's doc line.
  assert.equal(infos.get('freeze')?.type, 1);
  assert.equal(infos.get('model.kernel_size')?.type, 3);
  assert.equal(infos.get('model.lc_depthwise')?.type, 2);
  assert.equal(infos.get('train.step_milestones')?.type, 1, 'a list is shown as its JSON text');
  assert.equal(infos.get('dataset.subset')?.type, 3, 'an optional key is described even where unset');
  assert.ok(infos.get('model.kernel_size')!.description.length > 0);
  for (const name of infos.keys())
    assert.ok(
      !/^(seed|seeds|name|backend|threads|results_dir|compare_to_standard)$|^(slurm|eval|sweep)\./.test(name),
      `${name} does not change what a run computes (or is the seed, which varies within a group)`,
    );
  assert.deepEqual(
    exp.experiment!.metrics.map((m) => [m.group, m.tag, m.displayName, m.datasetType]),
    [
      ['', 'epoch/val_acc', 'final test accuracy', 2],
      ['', 'epoch/val_loss', 'final test loss', 2],
      ['', 'epoch/train_acc', 'final training accuracy', 1],
      ['', 'epoch/train_loss', 'final training loss', 1],
    ],
  );

  assert.equal(start.length, 1);
  const session = start[0]!.data.start!;
  assert.equal(session.hparams.get('freeze'), 'frozen');
  assert.equal(session.hparams.get('model.kernel_size'), 3);
  assert.equal(session.hparams.get('model.lc_expansion'), 2);
  assert.equal(session.hparams.get('model.lc_depthwise'), false);
  assert.equal(session.hparams.get('train.lr'), 0.025);
  assert.equal(session.hparams.get('train.step_milestones'), '[]');
  assert.equal(session.hparams.get('dataset.name'), 'synthetic');
  assert.ok(!session.hparams.has('seed') && !session.hparams.has('dataset.subset'));
  for (const name of session.hparams.keys()) assert.ok(infos.has(name), `${name} is described in the experiment`);
  assert.equal(session.modelUri, dir);
  assert.match(session.group, /^[0-9a-f]{16}$/);
  assert.ok(Math.abs(session.startTime - Date.now() / 1000) < 60);

  assert.equal(end.length, 1);
  assert.equal(end[0]!.data.end!.status, 1, 'STATUS_SUCCESS');
  assert.equal(end[0]!.step, STEPS, 'at the last step written');
  assert.ok(end[0]!.data.end!.endTime >= session.startTime);
});

test('HParams: seeds of one config share a session group; a failure ends the session, an interruption does not', () => {
  const group = (overrides: string[]) => hparamsOfFakeRun(tinyConfig(overrides)).start[0]!.data.start!.group;
  assert.equal(group(['seed=0']), group(['seed=1']), 'seeds of one configuration form one group');
  assert.notEqual(group(['model.kernel_size=3']), group(['model.kernel_size=5']));
  assert.equal(hparamsOfFakeRun(tinyConfig(), 'failed').end[0]!.data.end!.status, 2, 'STATUS_FAILURE');
  // TensorBoard keeps a run's first session end, so an interrupted run (resumed later) writes none.
  assert.deepEqual(hparamsOfFakeRun(tinyConfig(), 'interrupted').end, []);
  const validation = hparamsOfFakeRun(tinyConfig(['dataset.val_split=0.25'])).experiment[0]!.data.experiment!;
  assert.equal(validation.metrics[0]!.displayName, 'final validation accuracy');
});

const PYTHON = '/usr/bin/python3';
const hasTensorBoard =
  spawnSync(PYTHON, ['-c', 'import tensorboard'], { encoding: 'utf8' }).status === 0
    ? false
    : `${PYTHON} has no tensorboard package (not in Debian's archive; pip is not used here)`;

test('TensorBoard itself reads the HParams records', { skip: hasTensorBoard }, () => {
  const { dir } = hparamsOfFakeRun(tinyConfig(['freeze=frozen']));
  const script = `
import json, sys
from tensorboard.backend.event_processing import plugin_event_accumulator as pea
from tensorboard.plugins.hparams import plugin_data_pb2
acc = pea.EventAccumulator(sys.argv[1])
acc.Reload()
content = acc.PluginTagToContent("hparams")
start = plugin_data_pb2.HParamsPluginData.FromString(content["_hparams_/session_start_info"]).session_start_info
end = plugin_data_pb2.HParamsPluginData.FromString(content["_hparams_/session_end_info"]).session_end_info
exp = plugin_data_pb2.HParamsPluginData.FromString(content["_hparams_/experiment"]).experiment
print(json.dumps({
  "freeze": start.hparams["freeze"].string_value,
  "k": start.hparams["model.kernel_size"].number_value,
  "status": end.status,
  "metrics": [m.name.tag for m in exp.metric_infos],
}))
`;
  const r = spawnSync(PYTHON, ['-c', script, dir], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout), {
    freeze: 'frozen',
    k: 3,
    status: 1,
    metrics: ['epoch/val_acc', 'epoch/val_loss', 'epoch/train_acc', 'epoch/train_loss'],
  });
});

test('a resume appends a new file with a SessionLog START and leaves the old one as it was; a fresh start removes them', () => {
  const dir = tempDir('tb-resume');
  const config = tinyConfig();
  const first = new TensorBoardWriter(config, dir);
  first.start(startInfo(dir, 1));
  first.epoch(row(1, true));
  first.close();
  const [oldName] = eventsFiles(dir);
  const oldBytes = readFileSync(join(dir, oldName!));

  const resumed = new TensorBoardWriter(config, dir);
  resumed.start(startInfo(dir, 2));
  resumed.epoch(row(2, true));
  resumed.close();
  const files = eventsFiles(dir);
  assert.equal(files.length, 2);
  assert.deepEqual(readFileSync(join(dir, oldName!)), oldBytes);
  const newer = readEvents(join(dir, files.find((f) => f !== oldName)!));
  assert.equal(newer[0]!.fileVersion, 'brain.Event:2');
  const start = newer.find((e) => e.sessionLogStatus !== undefined)!;
  assert.deepEqual(
    [start.sessionLogStatus, start.step],
    [1, STEPS + 1],
    'START at the first step after the checkpoint',
  );
  assert.equal(newer.find((e) => 'epoch/val_acc' in e.scalars)!.step, 2 * STEPS);

  const fresh = new TensorBoardWriter(config, dir);
  fresh.start(startInfo(dir, 1));
  fresh.close();
  assert.equal(eventsFiles(dir).length, 1, 'a fresh start replaces the earlier attempts, like metrics.csv');
});

test('a failed append during a step (disk full) stops the run at the epoch, naming the file and the cause', {
  skip: existsSync('/dev/full') ? false : 'no /dev/full',
}, () => {
  const dir = tempDir('tb-fail');
  const writer = new TensorBoardWriter(tinyConfig(), dir);
  writer.start(startInfo(dir, 1));
  closeSync(Reflect.get(writer, 'fd') as number);
  Reflect.set(writer, 'fd', openSync('/dev/full', 'w')); // every write now fails with ENOSPC
  assert.doesNotThrow(
    () => writer.step({ epoch: 1, step: 2, steps: STEPS, lr: 0.1, loss: 1, acc: 0, imagesPerSecond: 1 }),
    "a step (inside the trainer's progress read) never throws",
  );
  assert.throws(
    () => writer.epoch(row(1, true)),
    (err: Error) => err.message.startsWith(`${writer.path}: cannot append:`) && /no space/i.test(err.message),
  );
  assert.equal(Reflect.get(writer, 'fd'), null, 'the file is closed after the failure');
});

test('lcconv run leaves an events file whose records verify, with the epoch scalars of metrics.csv', () => {
  const results = tempDir('tb-cli');
  const config = writeTinyConfig(join(results, 'tiny.yaml'), { results_dir: results, 'train.epochs': 2 });
  const run = lcconv(['run', config, '--quiet']);
  assert.equal(run.status, 0, run.stderr);
  const runDirs: string[] = [];
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else if (name === 'metrics.csv') runDirs.push(d);
    }
  };
  walk(results);
  assert.equal(runDirs.length, 1);
  const files = eventsFiles(runDirs[0]!);
  assert.equal(files.length, 1);
  const events = readEvents(join(runDirs[0]!, files[0]!));
  assert.equal(events[0]!.fileVersion, 'brain.Event:2');
  assert.ok(events.some((e) => e.texts.config?.text.includes('| freeze |')));
  const valAcc = events.filter((e) => 'epoch/val_acc' in e.scalars);
  assert.equal(valAcc.length, 2);
  const metrics = readFileSync(join(runDirs[0]!, 'metrics.csv'), 'utf8').trim().split('\n');
  const header = metrics[0]!.split(',');
  const lastValAcc = Number(metrics[2]!.split(',')[header.indexOf('val_acc')]);
  assert.equal(valAcc[1]!.scalars['epoch/val_acc'], Math.fround(lastValAcc));
  assert.ok(events.some((e) => 'step/lr' in e.scalars && 'step/train_loss_epoch_mean' in e.scalars));
  // The HParams dashboard's row for this run: its config values and a finished session.
  const [start] = hparamsRecords(events, '_hparams_/session_start_info');
  assert.equal(start!.data.start!.hparams.get('train.epochs'), 2);
  assert.equal(start!.data.start!.modelUri, runDirs[0]);
  assert.deepEqual(
    hparamsRecords(events, '_hparams_/session_end_info').map((r) => r.data.end!.status),
    [1],
  );
});
