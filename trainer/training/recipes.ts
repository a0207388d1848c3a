// Named training recipes (`train --recipe NAME`): every setting a run needs, so that a run with no
// flags gets a recipe that was measured, and each flag overrides one setting of it.
//   original  the original design: seed-cnn, Adam 1e-3 constant, batch 100, dropout 0.5, no augmentation
//   airbench  airbench93's recipe (KellerJordan/cifar10-airbench): its net, Nesterov SGD (momentum
//             0.85), batch 1024, lr 11.5 and weight decay 0.0153 per 1024 examples in its decoupled
//             form, batchnorm biases at 64x the lr, label smoothing 0.2, the triangle schedule,
//             Lookahead, alternating flips + 2-pixel reflect-translate, the whitening bias trained 3 epochs
//   fast      airbench's recipe on airbench-small (half the widths) for 4 epochs: for trying things out
// The default, `auto`, is not a fixed preset: auto-recipe.ts sizes airbench's (or fast's) to the data.

import type { Augmentation } from "./batches.ts";
import type { TrainConfig } from "./run.ts";
import type { ScheduleKind } from "./schedule.ts";
import type { OptimizerKind } from "../../shared/optimizer.ts";
import type { ViewSet } from "../../shared/views.ts";

export interface Recipe {
  arch: string;
  epochs: number;
  batch: number;
  /** The learning rate for a batch size (airbench's is per 1024 examples). */
  lr: (batch: number) => number;
  optimizer: OptimizerKind;
  schedule: ScheduleKind;
  warmup: number;
  weightDecay: number;
  labelSmoothing: number;
  dropout: number;
  augment: Augmentation;
  keep: "best" | "last";
  /** Test-time views the model file asks every classifier to average (views.ts). */
  views: ViewSet;
  extra: Pick<TrainConfig, "momentum" | "groupLr" | "whitenBiasEpochs" | "lookahead" | "bodyLr">;
  summary: string;
}

// airbench: lr and wd per 1024 examples, with Nesterov's step scale 1 + 1/(1 - momentum) divided out
// (airbench's "kilostep_scale"), for a loss that is the batch mean (airbench sums over the batch).
const AIRBENCH_MOMENTUM = 0.85;
const AIRBENCH_STEP_SCALE = 1 + 1 / (1 - AIRBENCH_MOMENTUM);

export const RECIPES: Record<string, Recipe> = {
  original: {
    arch: "seed-cnn", epochs: 10, batch: 100, lr: () => 1e-3, optimizer: "adam", schedule: "none", warmup: 0,
    weightDecay: 0, labelSmoothing: 0, dropout: 0.5, augment: { flip: false, pad: 0 }, keep: "last", views: "none", extra: {},
    summary: "the original design: seed-cnn, Adam 1e-3, batch 100, 10 epochs, no augmentation",
  },
  airbench: {
    arch: "airbench", epochs: 11, batch: 1024, lr: (batch) => (11.5 / AIRBENCH_STEP_SCALE) * (batch / 1024),
    optimizer: "nesterov", schedule: "triangle", warmup: 0,
    weightDecay: 0.0153 / 11.5, labelSmoothing: 0.2, dropout: 0,
    augment: { flip: true, pad: 2, flipMode: "alternate", padMode: "reflect" }, keep: "last",
    // The mirror view as well (2 forward passes per image): airbench's 6 views cost ~20 ms of CPU per
    // request at the edge, over the free plan's 10 ms; the mirror fits.
    views: "flip",
    extra: { momentum: AIRBENCH_MOMENTUM, groupLr: { norm: 64 }, whitenBiasEpochs: 3, lookahead: true },
    summary: "airbench93's: its net, Nesterov SGD, batch 1024, label smoothing 0.2, Lookahead, alternating flip + translate, 11 epochs",
  },
};

RECIPES.fast = {
  ...RECIPES.airbench, arch: "airbench-small", epochs: 4,
  extra: { ...RECIPES.airbench.extra, whitenBiasEpochs: 1 },
  summary: "airbench's recipe on airbench-small (widths 32/64/64, a third of the work) for 4 epochs; on folders sized like auto with a quarter of the steps",
};

/** The default recipe: chosen from the data (auto-recipe.ts). */
export const AUTO_RECIPE = "auto";
export const AUTO_SUMMARY = "the default: CIFAR-10 gets airbench; an image folder fine-tunes the shipped CIFAR-10 model (airbench; --from none: from scratch) with airbench's ingredients, batch, epochs, augmentation and best-epoch keeping chosen from its size, a test split, and the smallest weight type within 0.5 points of f32";
export const RECIPE_NAMES: readonly string[] = [AUTO_RECIPE, ...Object.keys(RECIPES)];
