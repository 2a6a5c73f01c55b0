/**
 * End-of-epoch checkpoints, so an interrupted run resumes where it stopped. A checkpoint is a folder
 * `<run dir>/checkpoint/` in the tfjs weights format (`weights.bin` from tf.io.encodeWeights plus
 * `checkpoint.json` holding the weight specs and the training state): learnable weights, BatchNorm
 * running statistics (ParamStore buffers) and SGD momentum buffers, the epoch and best-so-far.
 *
 * No RNG state is saved: shuffling and augmentation are seeded per (seed, epoch) in
 * src/data/batches.ts, and the learning rate is a pure function of the step, so resuming at an epoch
 * boundary replays exactly what an uninterrupted run would do (bit-identical on the cpu backend).
 * Frozen filters and the shared bank are not stored: they are regenerated from the seed when the
 * model is built, and a digest of them is stored and checked on resume, so a changed init fails
 * loudly instead of silently mixing two networks.
 *
 * Written atomically: into a temp folder (files synced to disk), then renamed into place; the
 * previous checkpoint is moved to checkpoint.prev/ first and kept, so a kill or a failed write at
 * any moment leaves a complete checkpoint. Verified before it is trusted (checkpoint-integrity.ts):
 * checksums of the weights and the manifest, and the state's ranges.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import type { Model } from '../models/index.js';
import { fsCause, fsError, isStorageError, makeDir, syncDir, tempPath, writeFileSynced } from '../fs-safety.js';
import { DamagedCheckpoint, sealedManifest, verifiedManifest } from './checkpoint-integrity.js';
import {
  CHECKPOINT_DIR,
  CHECKPOINT_MANIFEST,
  CHECKPOINT_WEIGHTS,
  checkpointEpoch,
  checkpointFolder,
  PREVIOUS_CHECKPOINT_DIR,
  type CheckpointManifest,
} from './files.js';
import type { OptimizerState, TrainState } from './records.js';

/**
 * The values of `tensors` (float32), read from the device at once: flattened and concatenated
 * there, then one download. Per-tensor reads would each make the loop wait for the GPU, and a
 * synchronous read cannot work on the webgpu backend in Node.
 */
async function readAll(tensors: tf.Tensor[]): Promise<Float32Array[]> {
  if (tensors.length === 0) return [];
  const packed = tf.tidy(() => tf.concat(tensors.map((t) => tf.reshape(t, [-1]))));
  const flat = (await packed.data()) as Float32Array;
  packed.dispose();
  let offset = 0;
  return tensors.map((t) => {
    const start = offset;
    offset += t.size;
    return flat.subarray(start, offset);
  });
}

/** Frozen weights never change during a run: their digest is computed once per model (one device read). */
const digests = new WeakMap<Model, string>();

/** sha256 over the frozen kernels and the shared bank, in name order. */
async function frozenDigest(model: Model): Promise<string> {
  const known = digests.get(model);
  if (known) return known;
  const named: [string, tf.Tensor][] = [...model.params.frozen.entries()].sort(([a], [b]) => a.localeCompare(b));
  const bank = model.params.shared?.tensor;
  if (bank) named.push(['shared-bank', bank]);
  const values = await readAll(named.map(([, t]) => t));
  const hash = createHash('sha256');
  named.forEach(([name], i) => {
    hash.update(name).update(new Uint8Array(values[i]!.buffer, values[i]!.byteOffset, values[i]!.byteLength));
  });
  const digest = hash.digest('hex');
  digests.set(model, digest);
  return digest;
}

export async function saveCheckpoint(
  runDir: string,
  model: Model,
  optimizer: OptimizerState,
  state: TrainState,
): Promise<void> {
  const tensors: tf.NamedTensorMap = {};
  for (const [name, v] of model.params.learnable) tensors[`learnable/${name}`] = v;
  for (const [name, v] of model.params.buffers) tensors[`buffers/${name}`] = v;
  for (const [name, v] of optimizer.buffers) tensors[`sgd/${name}`] = v;
  // tf.io's weights format for float32 is the tensors' bytes back to back, in spec order.
  const names = Object.keys(tensors);
  const values = await readAll(names.map((n) => tensors[n]!));
  const specs: tf.io.WeightsManifestEntry[] = names.map((name) => ({
    name,
    shape: tensors[name]!.shape,
    dtype: 'float32',
  }));
  const weights = new Uint8Array(values.reduce((n, v) => n + v.byteLength, 0));
  let offset = 0;
  for (const v of values) {
    weights.set(new Uint8Array(v.buffer, v.byteOffset, v.byteLength), offset);
    offset += v.byteLength;
  }
  const manifest = sealedManifest({ state, frozenDigest: await frozenDigest(model), weightSpecs: specs }, weights);

  const final = join(runDir, CHECKPOINT_DIR);
  const previous = join(runDir, PREVIOUS_CHECKPOINT_DIR);
  const tmp = tempPath(final);
  try {
    rmSync(tmp, { recursive: true, force: true });
    makeDir(tmp);
    writeFileSynced(join(tmp, CHECKPOINT_WEIGHTS), weights);
    writeFileSynced(join(tmp, CHECKPOINT_MANIFEST), manifest);
    syncDir(tmp);
  } catch (err) {
    rmSync(tmp, { recursive: true, force: true });
    throw fsError(final, `cannot write the checkpoint of epoch ${state.epoch}; ${keptCheckpoint(runDir)}`, err);
  }
  // A folder cannot be renamed over a non-empty one: the newest becomes the previous, the new one
  // the newest. A kill between the two renames leaves checkpoint.prev alone, which checkpointFolder
  // falls back to.
  rmSync(previous, { recursive: true, force: true });
  if (existsSync(final)) renameSync(final, previous);
  renameSync(tmp, final);
  syncDir(runDir);
}

/** What a failed checkpoint write leaves to resume from, in words (during the first epoch: nothing). */
function keptCheckpoint(runDir: string): string {
  let epoch: number | null = null;
  try {
    epoch = checkpointEpoch(runDir);
  } catch {
    // a damaged manifest: nothing trustworthy is kept
  }
  return epoch === null
    ? 'no epoch is checkpointed yet'
    : `epoch ${epoch} is checkpointed; free space and continue with --resume`;
}

/**
 * Loads a run's checkpoint into a freshly built model (and optimizer, when training continues);
 * returns the training state, or null when the run has no checkpoint (it then starts at epoch 1).
 * Fails when the frozen filters regenerated from the seed differ from the ones trained with.
 */
export async function loadCheckpoint(
  runDir: string,
  model: Model,
  optimizer: OptimizerState | null,
  epochs = Infinity,
): Promise<TrainState | null> {
  const folder = checkpointFolder(runDir);
  if (!folder) return null;
  const files = { manifest: join(folder, CHECKPOINT_MANIFEST), weights: join(folder, CHECKPOINT_WEIGHTS) };
  const previous = join(runDir, PREVIOUS_CHECKPOINT_DIR);
  // Without an optimizer the checkpoint is read, not resumed (eval, export, analyze, a from_run
  // source): the remedy is to retrain that run, not a --resume flag the reader never had.
  const remedy = !optimizer
    ? `retrain ${runDir} (lcconv run <its config> --force)`
    : folder !== previous && existsSync(join(previous, CHECKPOINT_MANIFEST))
      ? `delete ${folder} to resume from the previous checkpoint (${previous}), or run without --resume to start again from epoch 1`
      : 'run without --resume to start again from epoch 1';
  const read = <T>(file: string, how: () => T): T => {
    try {
      return how();
    } catch (err) {
      if (!isStorageError(err)) throw err;
      throw new DamagedCheckpoint(`${file}: cannot read: ${fsCause(err)}; ${remedy}`); // e.g. a folder named weights.bin (EISDIR)
    }
  };
  const bytes = read(files.weights, () => readFileSync(files.weights));
  const manifest = verifiedManifest<CheckpointManifest>(
    files,
    read(files.manifest, () => readFileSync(files.manifest, 'utf8')),
    bytes,
    epochs,
    remedy,
  );
  if (manifest.frozenDigest !== (await frozenDigest(model))) {
    // Never advise deleting: this checkpoint may hold a finished run's only trained weights.
    throw new DamagedCheckpoint(
      `${folder}: the frozen filters regenerated from the seed and config.yaml differ from the checkpoint's (config.yaml edited, or lcconv's model or init code changed); nothing was changed: restore the run's config.yaml, or use the lcconv version that trained it`,
    );
  }
  const tensors = tf.io.decodeWeights(
    bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength),
    manifest.weightSpecs as tf.io.WeightsManifestEntry[],
  );
  try {
    const assign = (kind: string, params: Map<string, tf.Variable>) => {
      for (const [name, v] of params) {
        const t = tensors[`${kind}/${name}`];
        if (!t) throw new Error(`${folder}: no ${kind} weight ${name} (model changed since the checkpoint)`);
        v.assign(t);
      }
    };
    assign('learnable', model.params.learnable);
    assign('buffers', model.params.buffers);
    for (const [key, t] of Object.entries(tensors)) {
      if (!optimizer || !key.startsWith('sgd/')) continue;
      const name = key.slice(4);
      optimizer.buffers.get(name)?.dispose();
      optimizer.buffers.set(name, tf.variable(t, false));
    }
  } finally {
    tf.dispose(Object.values(tensors)); // assign and tf.variable keep their own reference to the data
  }
  return manifest.state;
}
