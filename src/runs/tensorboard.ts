/**
 * TensorBoard event files in the run directory, so `tensorboard --logdir results` shows every run
 * of a sweep. Written by hand: the npm packages for the format are abandoned or pull in tfjs-node,
 * and the format is small — TFRecord framing around `Event` protobuf messages (protobuf.ts encodes them):
 *
 *   record  = uint64 length (LE), masked CRC32C of those 8 bytes, data, masked CRC32C of data
 *   Event   = wall_time (1, double), step (2, int64), file_version (3, string) | summary (5) | session_log (6)
 *   Summary = value (1, repeated Value); Value = tag (1), simple_value (2, float) | tensor (8) + metadata (9)
 *
 * Every start of the run (a fresh one or a resume) opens a new file `events.out.tfevents.<unix
 * seconds>.<host>`; TensorBoard merges the files of a directory. A resume also writes a SessionLog
 * START at its first step, so TensorBoard drops what an earlier attempt logged past the checkpoint.
 * A fresh start removes the files of earlier attempts (as it replaces metrics.csv).
 *
 * The run's hyperparameters and final metrics for the HParams dashboard: tensorboard-hparams.ts.
 *
 * All scalars use the global step ((epoch − 1) · steps per epoch + step), so per-step and per-epoch
 * curves share one axis; the per-epoch scalars sit at the epoch's last step.
 */
import { closeSync, openSync, readdirSync, rmSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import type { Config } from '../config/schema.js';
import { appendWhole, makeDir, fsError } from '../fs-safety.js';
import { EVENTS_FILE_PREFIX } from './files.js';
import { bytesField, doubleField, floatField, varintField } from './protobuf.js';
import { sessionEndValue, sessionStartValues } from './tensorboard-hparams.js';
import type { EpochRow, RunSink, RunStart, RunSummary, StepProgress } from './records.js';

// ---- CRC32C (Castagnoli), table-driven: 20 lines instead of a native package with per-platform binaries

const CRC32C_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0x82f63b78 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

export function crc32c(bytes: Uint8Array): number {
  let crc = 0xffffffff;
  for (const b of bytes) crc = CRC32C_TABLE[(crc ^ b) & 0xff]! ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

/** TFRecord's masked CRC (a CRC of data that holds CRCs is weak, so stored CRCs are rotated and offset). */
export function maskedCrc32c(bytes: Uint8Array): number {
  const crc = crc32c(bytes);
  return ((((crc >>> 15) | (crc << 17)) >>> 0) + 0xa282ead8) >>> 0;
}

/** One TFRecord: length, its masked CRC, the data, the data's masked CRC. */
export function tfRecord(data: Uint8Array): Buffer {
  const record = Buffer.alloc(8 + 4 + data.length + 4);
  record.writeBigUInt64LE(BigInt(data.length), 0);
  record.writeUInt32LE(maskedCrc32c(record.subarray(0, 8)), 8);
  record.set(data, 12);
  record.writeUInt32LE(maskedCrc32c(data), 12 + data.length);
  return record;
}

// ---- Event and Summary messages

/** A Summary.Value holding one scalar (simple_value). */
const scalarValue = (tag: string, value: number) =>
  bytesField(1, Buffer.concat([bytesField(1, tag), floatField(2, value)]));

/**
 * A Summary.Value for TensorBoard's text plugin: metadata.plugin_data.plugin_name = "text" and a
 * scalar DT_STRING tensor (TensorProto: dtype 1 = 7, tensor_shape 2 empty = scalar, string_val 8).
 */
function textValue(tag: string, markdown: string): Buffer {
  const metadata = bytesField(1, bytesField(1, 'text'));
  const tensor = Buffer.concat([varintField(1, 7), bytesField(2, Buffer.alloc(0)), bytesField(8, markdown)]);
  return bytesField(1, Buffer.concat([bytesField(1, tag), bytesField(8, tensor), bytesField(9, metadata)]));
}

const SESSION_LOG_START = 1;

function event(wallSeconds: number, step: number, body: Buffer): Buffer {
  return Buffer.concat([doubleField(1, wallSeconds), varintField(2, step), body]);
}

const summaryEvent = (wallSeconds: number, step: number, values: Buffer[]) =>
  event(wallSeconds, step, bytesField(5, Buffer.concat(values)));

// ---- the sink

/** Host name as it may appear in a file name. */
const fileSafeHost = () => hostname().replace(/[^A-Za-z0-9._-]/g, '_') || 'localhost';

/** The run's key settings and its whole resolved config, as markdown for the text plugin. */
function configMarkdown(config: Config, seed: number): string {
  const keys: [string, unknown][] = [
    ['freeze', config.freeze],
    ['model.kernel_size', config.model.kernel_size],
    ['model.lc_expansion', config.model.lc_expansion],
    ['model.lc_depthwise', config.model.lc_depthwise],
    ['model.width', config.model.width],
    ['model.arch', config.model.arch],
    ['train.lr', config.train.lr],
    ['train.epochs', config.train.epochs],
    ['train.batch_size', config.train.batch_size],
    ['seed', seed],
  ];
  const table = ['| key | value |', '|---|---|', ...keys.map(([k, v]) => `| ${k} | ${String(v)} |`)].join('\n');
  const yaml = stringify({ ...config, seed, seeds: undefined })
    .split('\n')
    .map((l) => `    ${l}`)
    .join('\n');
  return `${table}\n\nResolved config:\n\n${yaml}`;
}

/**
 * The TensorBoard sink: per progress read (every few steps, never an extra device read) the
 * epoch's running training loss and the learning rate; per epoch the training and validation loss
 * and accuracy; at the start the run's config as text (tag `config`) and its HParams session, at the
 * end the session's status. Records are appended with
 * synchronous writes of a few dozen bytes. A write that fails stops the run with the file and the
 * cause, as a failed metrics.csv append does (a failure during a step is raised at the epoch's end,
 * where the trainer awaits the sinks).
 */
export class TensorBoardWriter implements RunSink {
  private fd: number | null = null;
  private file = '';
  private stepsPerEpoch = 1;
  private failure: unknown = null;
  /** Global step of the last record, where the session end is written. */
  private lastStep = 0;

  constructor(
    private readonly config: Config,
    private readonly dir: string,
  ) {}

  /** The events file this writer appends to ('' before start). */
  get path(): string {
    return this.file;
  }

  start(info: RunStart): void {
    makeDir(this.dir);
    this.stepsPerEpoch = info.stepsPerEpoch;
    const earlier = readdirSync(this.dir)
      .filter((name) => name.startsWith(EVENTS_FILE_PREFIX))
      .sort();
    const resuming = info.firstEpoch > 1;
    if (!resuming) for (const name of earlier) rmSync(join(this.dir, name), { force: true });
    // Never reuse a name: a resume within the same second as the attempt before gets a suffix.
    const base = `${EVENTS_FILE_PREFIX}${Math.floor(Date.now() / 1000)}.${fileSafeHost()}`;
    let name = base;
    for (let n = 1; resuming && earlier.includes(name); n++) name = `${base}.${n}`;
    this.file = join(this.dir, name);
    try {
      this.fd = openSync(this.file, resuming ? 'wx' : 'w');
    } catch (err) {
      throw fsError(this.file, 'cannot create', err);
    }
    const now = Date.now() / 1000;
    const firstStep = (info.firstEpoch - 1) * info.stepsPerEpoch;
    this.append(event(now, firstStep, bytesField(3, 'brain.Event:2')));
    if (resuming) this.append(event(now, firstStep + 1, bytesField(6, varintField(1, SESSION_LOG_START))));
    this.append(summaryEvent(now, firstStep, [textValue('config', configMarkdown(this.config, info.seed))]));
    this.append(summaryEvent(now, firstStep, sessionStartValues(this.config, info.dir, now)));
    this.lastStep = firstStep;
    this.raiseFailure();
  }

  step(progress: StepProgress): void {
    const step = (progress.epoch - 1) * this.stepsPerEpoch + progress.step;
    this.lastStep = step;
    this.append(
      summaryEvent(Date.now() / 1000, step, [
        scalarValue('step/train_loss_epoch_mean', progress.loss),
        scalarValue('step/lr', progress.lr),
      ]),
    );
  }

  epoch(row: EpochRow): void {
    this.raiseFailure();
    const values = [
      scalarValue('epoch/train_loss', row.train_loss),
      scalarValue('epoch/train_acc', row.train_acc),
      scalarValue('epoch/lr', row.lr),
    ];
    if (row.val_loss !== null) values.push(scalarValue('epoch/val_loss', row.val_loss));
    if (row.val_acc !== null) values.push(scalarValue('epoch/val_acc', row.val_acc));
    values.push(scalarValue('epoch/images_per_second', row.images_per_second));
    this.lastStep = row.epoch * this.stepsPerEpoch;
    this.append(summaryEvent(Date.now() / 1000, this.lastStep, values));
    this.raiseFailure();
  }

  end(_summary: RunSummary): void {
    // Not raised if it fails: summary.json is written by then, and the run did finish.
    this.endSession('success');
    this.close();
  }

  /**
   * Marks the HParams session failed (the run stopped with an error). Not for an interruption: that
   * run resumes later, and TensorBoard keeps the first session end a run's files hold.
   */
  failed(): void {
    this.endSession('failure');
    this.close();
  }

  private endSession(status: 'success' | 'failure'): void {
    const now = Date.now() / 1000;
    this.append(summaryEvent(now, this.lastStep, [sessionEndValue(status, now)]));
  }

  /** Closes the file (also after a failed or interrupted run; safe to call twice). */
  close(): void {
    if (this.fd === null) return;
    closeSync(this.fd);
    this.fd = null;
  }

  private append(data: Buffer): void {
    if (this.fd === null || this.failure) return;
    try {
      appendWhole(this.fd, this.file, tfRecord(data), false); // a torn record would end TensorBoard's reading there
    } catch (err) {
      this.failure = err;
    }
  }

  private raiseFailure(): void {
    if (!this.failure) return;
    this.close();
    throw this.failure;
  }
}
