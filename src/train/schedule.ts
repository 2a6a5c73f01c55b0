/**
 * Learning rate as a pure function of the step, in three phases: (1) linear warm-up from 0,
 * (2) the schedule proper (cosine to 0, step decay at milestones, or constant), measured in steps
 * from the end of warm-up for cosine and in absolute epochs for step milestones.
 */
import type { TrainConfig } from '../config/schema.js';

export interface ScheduleSteps {
  lr: number;
  schedule: TrainConfig['schedule'];
  warmupSteps: number;
  totalSteps: number;
  milestoneSteps: number[]; // absolute steps at which lr is multiplied by gamma
  gamma: number;
}

export function scheduleFor(train: TrainConfig, stepsPerEpoch: number): ScheduleSteps {
  const milestones =
    train.step_milestones.length > 0
      ? train.step_milestones
      : [Math.round(train.epochs * 0.5), Math.round(train.epochs * 0.75)];
  return {
    lr: train.lr,
    schedule: train.schedule,
    warmupSteps: Math.round(train.warmup_epochs * stepsPerEpoch),
    totalSteps: train.epochs * stepsPerEpoch,
    milestoneSteps: milestones.map((e) => e * stepsPerEpoch),
    gamma: train.step_gamma,
  };
}

/** Learning rate for the update made at `step` (0-based). */
export function lrAt(step: number, s: ScheduleSteps): number {
  // (1) warm-up: lr·(step+1)/warmupSteps, so the first update is not a zero step
  if (step < s.warmupSteps) return (s.lr * (step + 1)) / s.warmupSteps;
  switch (s.schedule) {
    case 'constant':
      return s.lr;
    case 'step':
      return s.lr * s.gamma ** s.milestoneSteps.filter((m) => step >= m).length;
    case 'cosine': {
      // (2) half-cosine from lr at the end of warm-up to 0 at the last step
      const span = Math.max(s.totalSteps - s.warmupSteps, 1);
      const progress = Math.min((step - s.warmupSteps) / span, 1);
      return 0.5 * s.lr * (1 + Math.cos(Math.PI * progress));
    }
  }
}
