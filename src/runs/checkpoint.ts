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
 * Written atomically: into a temp folder, then renamed into place (the previous checkpoint is moved
 * aside first and removed after), so a kill at any moment leaves one complete checkpoint.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import type { Model } from '../models/index.js';
import type { Sgd } from '../train/sgd.js';
import { CHECKPOINT_DIR, CHECKPOINT_MANIFEST, CHECKPOINT_WEIGHTS, checkpointFolder, readCheckpointManifest, type CheckpointManifest } from './files.js';
import type { TrainState } from './records.js';

const FORMAT = 'lcconv-checkpoint-1';

/** Frozen weights never change during a run: their digest is computed once per model (one device read). */
const digests = new WeakMap<Model, string>();

/** sha256 over the frozen kernels and the shared bank, in name order. Async reads: webgpu cannot read synchronously. */
async function frozenDigest(model: Model): Promise<string> {
  const known = digests.get(model);
  if (known) return known;
  const hash = createHash('sha256');
  const frozen = [...model.params.frozen.entries()].sort(([a], [b]) => a.localeCompare(b));
  for (const [name, t] of frozen) hash.update(name).update(new Uint8Array(((await t.data()) as Float32Array).buffer));
  const bank = model.params.shared?.tensor;
  if (bank) hash.update('shared-bank').update(new Uint8Array(((await bank.data()) as Float32Array).buffer));
  const digest = hash.digest('hex');
  digests.set(model, digest);
  return digest;
}

export async function saveCheckpoint(runDir: string, model: Model, optimizer: Sgd, state: TrainState): Promise<void> {
  const tensors: tf.NamedTensorMap = {};
  for (const [name, v] of model.params.learnable) tensors[`learnable/${name}`] = v;
  for (const [name, v] of model.params.buffers) tensors[`buffers/${name}`] = v;
  for (const [name, v] of optimizer.buffers) tensors[`sgd/${name}`] = v;
  const { data, specs } = await tf.io.encodeWeights(tensors);
  const manifest: CheckpointManifest = { format: FORMAT, state, frozenDigest: await frozenDigest(model), weightSpecs: specs };

  const final = join(runDir, CHECKPOINT_DIR);
  const tmp = `${final}.tmp-${process.pid}`;
  const old = `${final}.old`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  writeFileSync(join(tmp, CHECKPOINT_WEIGHTS), new Uint8Array(data));
  writeFileSync(join(tmp, CHECKPOINT_MANIFEST), `${JSON.stringify(manifest, null, 1)}\n`);
  // A folder cannot be renamed over a non-empty one: move the old aside, put the new in, drop the old.
  // A kill between the two renames leaves only checkpoint.old, which checkpointFolder falls back to.
  rmSync(old, { recursive: true, force: true });
  if (existsSync(final)) renameSync(final, old);
  renameSync(tmp, final);
  rmSync(old, { recursive: true, force: true });
}

/**
 * Loads a run's checkpoint into a freshly built model (and optimizer, when training continues);
 * returns the training state, or null when the run has no checkpoint (it then starts at epoch 1).
 * Fails when the frozen filters regenerated from the seed differ from the ones trained with.
 */
export async function loadCheckpoint(runDir: string, model: Model, optimizer: Sgd | null): Promise<TrainState | null> {
  const folder = checkpointFolder(runDir);
  if (!folder) return null;
  const manifest = readCheckpointManifest(folder);
  if (manifest.format !== FORMAT) throw new Error(`${folder}: unknown checkpoint format ${String(manifest.format)}`);
  if (manifest.frozenDigest !== (await frozenDigest(model))) {
    throw new Error(`${folder}: the frozen filters regenerated from the seed differ from the checkpoint's (model or init code changed); delete the checkpoint to restart`);
  }
  const bytes = readFileSync(join(folder, CHECKPOINT_WEIGHTS));
  const tensors = tf.io.decodeWeights(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength), manifest.weightSpecs as tf.io.WeightsManifestEntry[]);
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
