/**
 * Plain records that flow from the trainer to the sinks and into the run directory (metrics.csv
 * rows, summary.json, the checkpoint's training state). No tensors, no behaviour: results/ reads
 * only these.
 */
import type { Variable } from '@tensorflow/tfjs-core';
import type { Model } from '../models/index.js';
import type { ParamCounts } from '../models/params.js';
import type { LcForm } from '../models/spatial-conv.js';
import type { LcCompute } from '../config/schema.js';

export interface RunIdentity {
  run_id: string;
  dir: string;
  seed: number;
  freeze: string;
  kernel_size: number;
  lc_expansion: number;
  lc_depthwise: boolean;
  /**
   * Hash of the run's config without freeze mode and seed: runs with equal groups differ only in
   * those, so they are seeds of one arm or arms to compare with each other.
   */
  group: string;
  /** The group of this run's standard-training arm (learned, E = 1, not depthwise; see standardOf). */
  standard_group: string;
  /** model.spatial_init (how the k×k filters were initialised); absent in older summaries = default. */
  spatial_init: string;
}

export interface RunStart extends RunIdentity {
  arch: string;
  dataset: string;
  epochs: number;
  stepsPerEpoch: number;
  batchSize: number;
  counts: ParamCounts;
  /** model.lc_compute, and the form it gives each LC block at the run's batch (empty without LC blocks). */
  lcCompute: LcCompute;
  lcForms: Record<string, LcForm>;
  backend: string;
  device: string;
  /** Epoch to start from (> 1 when resuming). */
  firstEpoch: number;
}

export interface StepProgress {
  epoch: number;
  step: number; // 1-based within the epoch
  steps: number;
  loss: number; // mean over the epoch so far
  lr: number; // learning rate of the step
  acc: number;
  imagesPerSecond: number;
}

/** One row of metrics.csv; column names are the CSV header. */
export interface EpochRow {
  epoch: number;
  lr: number;
  train_loss: number;
  train_acc: number;
  val_loss: number | null; // null on epochs without evaluation (eval_every > 1)
  val_acc: number | null;
  best_val_acc: number | null;
  epoch_seconds: number;
  images_per_second: number;
  learnable_params: number;
  frozen_params: number;
}

export const EPOCH_COLUMNS: (keyof EpochRow)[] = [
  'epoch',
  'lr',
  'train_loss',
  'train_acc',
  'val_loss',
  'val_acc',
  'best_val_acc',
  'epoch_seconds',
  'images_per_second',
  'learnable_params',
  'frozen_params',
];

export interface RunSummary extends RunIdentity {
  status: 'finished';
  arch: string;
  dataset: string;
  epochs: number;
  /** Number of classes: chance accuracy is 1/classes (absent in summaries of older versions). */
  classes?: number;
  final_val_acc: number;
  final_val_loss: number;
  best_val_acc: number;
  best_epoch: number;
  final_train_acc: number;
  params: ParamCounts;
  backend: string;
  device: string;
  /** Why `auto` passed over better backends (one line each); empty when a backend was named. */
  backend_skipped: string[];
  versions: Record<string, string>;
  git_commit: string | null;
  /** The per-channel mean and std used to normalise, and for a class-folder dataset its tree, caches and skipped files. */
  dataset_source?: Record<string, unknown>;
  wall_seconds: number;
  train_images_per_second: number;
  finished_at: string;
}

/** Where a trainer's events go: the run directory, the console, a JSON collector… */
export interface RunSink {
  start(info: RunStart): void | Promise<void>;
  step?(progress: StepProgress): void;
  /** The epoch's training steps are done and its evaluation starts. */
  evaluating?(epoch: number): void;
  epoch(row: EpochRow): void | Promise<void>;
  end(summary: RunSummary): void | Promise<void>;
}

/** What the training loop needs besides the weights to continue after `epoch` (stored in the checkpoint). */
export interface TrainState {
  epoch: number; // last finished epoch
  best: { acc: number; epoch: number } | null;
  lastEval: { loss: number; acc: number } | null;
  lastTrainAcc: number;
  trainSeconds: number;
  wallSeconds: number;
}

/** What a checkpoint keeps of the optimizer: its state tensors by name (train/sgd.ts's momentum buffers). */
export interface OptimizerState {
  readonly buffers: Map<string, Variable>;
}

/** Where the trainer keeps its end-of-epoch checkpoint and finds the one to resume from (RunRecorder implements it). */
export interface CheckpointStore {
  /** The state to continue from, its weights loaded into model and optimizer; null to start at epoch 1. */
  load(model: Model, optimizer: OptimizerState): Promise<TrainState | null>;
  save(model: Model, optimizer: OptimizerState, state: TrainState): Promise<void>;
}
