/**
 * Checkpoints are verified before they are trusted: `checkpoint.json` carries the SHA-256 of
 * `weights.bin` and of its own contents (so a flipped bit in the weights or a hand-edited epoch is
 * caught), and the training state it holds is range-checked against the run's config. A failure
 * is one line naming the file and what to do (exit 2). Pure: bytes and text in, verdicts out.
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { InputError } from '../errors.js';

export const CHECKPOINT_FORMAT = 'lcconv-checkpoint-2';

const sha256 = (data: string | Uint8Array) => createHash('sha256').update(data).digest('hex');

/** A checkpoint that cannot be trusted; the message names the file and the way out. */
export class DamagedCheckpoint extends InputError {
  override name = 'DamagedCheckpoint';
}

const fraction = z.number().min(0).max(1);
const seconds = z.number().min(0).refine(Number.isFinite, 'must be finite');

/** The training state, checked against the run's length in epochs. */
function stateSchema(epochs: number) {
  return z
    .strictObject({
      epoch: z.int().min(1).max(epochs),
      best: z.strictObject({ acc: fraction, epoch: z.int().min(1) }).nullable(),
      lastEval: z
        .strictObject({ loss: z.number().min(0).refine(Number.isFinite, 'must be finite'), acc: fraction })
        .nullable(),
      lastTrainAcc: fraction,
      trainSeconds: seconds,
      wallSeconds: seconds,
    })
    .refine((s) => !s.best || s.best.epoch <= s.epoch, {
      message: 'best epoch after the checkpoint epoch',
      path: ['best', 'epoch'],
    });
}

/** The manifest text to write for `manifest` and the weight bytes it describes. */
export function sealedManifest(manifest: Record<string, unknown>, weights: Uint8Array): string {
  const body = { ...manifest, format: CHECKPOINT_FORMAT, weightsSha256: sha256(weights) };
  return `${JSON.stringify({ ...body, manifestSha256: sha256(JSON.stringify(body)) }, null, 1)}\n`;
}

/**
 * The verified manifest of a checkpoint: checksums of the manifest and the weights, and the state
 * within `epochs`. `remedy` says what the user can do (it depends on what else the run has).
 */
export function verifiedManifest<T extends { state: unknown }>(
  files: { manifest: string; weights: string },
  text: string,
  weights: Uint8Array,
  epochs: number,
  remedy: string,
): T {
  const damaged = (file: string, problem: string) => new DamagedCheckpoint(`${file}: ${problem}; ${remedy}`);
  let parsed: Record<string, unknown>;
  try {
    parsed = JSON.parse(text) as Record<string, unknown>;
  } catch {
    throw damaged(files.manifest, 'not valid JSON (damaged)');
  }
  if (parsed?.format !== CHECKPOINT_FORMAT)
    throw damaged(
      files.manifest,
      `format ${JSON.stringify(parsed?.format)} is not ${CHECKPOINT_FORMAT} (written by another lcconv version, without checksums)`,
    );
  const { manifestSha256, ...body } = parsed;
  if (manifestSha256 !== sha256(JSON.stringify(body)))
    throw damaged(files.manifest, 'contents do not match its checksum (edited or damaged)');
  if (body.weightsSha256 !== sha256(weights))
    throw damaged(files.weights, `SHA-256 differs from the one recorded in ${files.manifest} (damaged)`);
  const state = stateSchema(epochs).safeParse(body.state, { reportInput: true });
  if (!state.success) {
    const issue = state.error.issues[0]!;
    throw damaged(
      files.manifest,
      `state.${issue.path.join('.')}: ${issue.message}, got ${JSON.stringify((issue as { input?: unknown }).input)}`,
    );
  }
  return body as unknown as T;
}
