// The recipe a run uses when given only --data (`--recipe auto`, the default), and `--recipe fast`:
// airbench's ingredients, sized to the data. airbench's fixed numbers (batch 1024, 11 epochs) are
// right for 50,000 images; a folder of 120 photos would get one step per epoch. So for image folders:
//   batch   min(recipe's, training images / 8 rounded down to a power of two), at least 16: ~8+ steps an epoch
//   epochs  enough for MIN_STEPS steps (airbench's 11 epochs x 49 steps on CIFAR-10 is ~540), at least
//           the recipe's, at most MAX_EPOCHS
//   the translate augmentation scales with the input size (airbench's 2 pixels at 32x32), the whitening
//   bias trains for the same share of the run as airbench's 3 of 11 epochs, and the best epoch is kept
//   only when the validation set is big enough for "best" to mean something.
// Every choice comes with a reason, printed once and stored in the model file; a flag that sets the
// same thing replaces the choice (and its line).

import { AUTO_RECIPE, RECIPES, type Recipe } from "./recipes.ts";

export interface Choice {
  /** What was chosen: the flag that overrides it (e.g. "batch"), or a setting no flag sets. */
  setting: string;
  value: string | number;
  why: string;
}

export interface DataFacts {
  kind: "cifar10" | "folder";
  /** Training examples after the validation and test hold-outs. */
  train: number;
  val: number;
  classes: number;
  /** Input side in pixels (--input-size). */
  size: number;
  /** Fine-tuning a trained body (--from, or the default base): fewer steps are enough. */
  fineTune?: boolean;
}

const MIN_STEPS = { auto: 500, fast: 120 } as const;
/**
 * Fine-tuning needs a quarter of the steps: Dogs vs Cats fine-tuned from cifar10.bin reached the same
 * validation accuracy (92.6 %) in 14 epochs (126 steps) as in 56 (504 steps), in a fifth of the time.
 */
const FINE_TUNE_STEP_SHARE = 0.25;
/**
 * And the body at a tenth of the learning rate: validation 93.0 % vs 92.6 % at the full rate (14 epochs,
 * the same split), and steadier from epoch to epoch (91.0-92.2 % from epoch 2 on, vs 87.5-91.4 %).
 */
const FINE_TUNE_BODY_LR = 0.1;
/**
 * But a small folder still sees every photo enough times: at least this many images in all. Sign
 * digits (180 training photos) fine-tuned for the quarter's 11 epochs scored 98.5 % over 5 splits, for
 * 42 epochs (7,560 images) 100 %.
 */
const FINE_TUNE_MIN_IMAGES = 7500;
const MAX_EPOCHS = 200;
const MIN_BATCH = 16;
/** Below this many validation images, "best epoch" mostly picks noise: keep the last (Lookahead's average). */
const MIN_VAL_FOR_BEST = 200;

/** The recipe named `name` for this data, and the choices it made (those a given flag overrides left out). */
export function chooseRecipe(name: string, data: DataFacts, given: { batch?: number; epochs?: number } = {}): { recipe: Recipe; choices: Choice[] } {
  if (name !== AUTO_RECIPE && name !== "fast") return { recipe: RECIPES[name], choices: [] };
  const base = name === "fast" ? RECIPES.fast : RECIPES.airbench;
  if (data.kind === "cifar10") {
    return { recipe: base, choices: [{ setting: "recipe", value: name === "fast" ? "fast" : "airbench", why: name === "fast" ? "CIFAR-10: airbench's recipe on airbench-small for 4 epochs" : "CIFAR-10: airbench93's recipe as published (94 % in its PyTorch form)" }] };
  }
  const choices: Choice[] = [];
  const pow2 = 2 ** Math.floor(Math.log2(Math.max(1, data.train / 8)));
  const batch = given.batch ?? Math.min(base.batch, Math.max(MIN_BATCH, pow2));
  if (given.batch === undefined) choices.push({ setting: "batch", value: batch, why: `${data.train} training images / 8 = ${Math.floor(data.train / 8)}, rounded down to a power of two, between ${MIN_BATCH} and ${base.batch}` });
  const steps = Math.ceil(data.train / batch);
  const minSteps = Math.round(MIN_STEPS[name as keyof typeof MIN_STEPS] * (data.fineTune ? FINE_TUNE_STEP_SHARE : 1));
  const minImages = data.fineTune ? Math.ceil(FINE_TUNE_MIN_IMAGES / data.train) : 0;
  const epochs = given.epochs ?? Math.min(MAX_EPOCHS, Math.max(base.epochs, Math.ceil(minSteps / steps), minImages));
  const stepsWhy = data.fineTune ? "fine-tuning: a quarter of the 500 a model from scratch gets (as good on Dogs vs Cats validation)" : "airbench does ~540 on CIFAR-10";
  const imagesWhy = data.fineTune ? `, at least ${FINE_TUNE_MIN_IMAGES} images in all (${minImages} epochs: small folders need the passes)` : "";
  if (given.epochs === undefined) choices.push({ setting: "epochs", value: epochs, why: `${steps} steps an epoch; at least ${minSteps} steps in all (${stepsWhy})${imagesWhy}, at least ${base.epochs}, at most ${MAX_EPOCHS} epochs` });
  choices.push({ setting: "lr", value: +base.lr(batch).toPrecision(4), why: `airbench's ${+(base.lr(1024)).toPrecision(4)} per 1024 images, scaled to batch ${batch}` });
  const pad = Math.max(1, Math.round((2 * data.size) / 32));
  choices.push({ setting: "augment", value: `alternating flip + ${pad}-pixel reflect translate`, why: `airbench's 2 pixels at 32x32, scaled to ${data.size}x${data.size}` });
  const keep = data.val >= MIN_VAL_FOR_BEST ? "best" : "last";
  choices.push({ setting: "keep", value: keep, why: keep === "best" ? `${data.val} validation images: enough to pick the best epoch` : `only ${data.val} validation images (< ${MIN_VAL_FOR_BEST}): the best epoch would be noise, so the last (Lookahead's average) is kept` });
  const whitenBiasEpochs = Math.max(1, Math.round((epochs * 3) / 11));
  choices.push({ setting: "whiten-bias-epochs", value: whitenBiasEpochs, why: "the whitening bias trains for airbench's share of the run (3 of 11 epochs)" });
  if (data.fineTune) choices.push({ setting: "body-lr", value: FINE_TUNE_BODY_LR, why: "fine-tuning: the trained body at a tenth of the learning rate, the new head at the full rate (steadier and as good or better on Dogs vs Cats validation)" });
  const recipe: Recipe = {
    ...base, batch, epochs, keep,
    augment: { ...base.augment, pad },
    extra: { ...base.extra, whitenBiasEpochs, ...(data.fineTune ? { bodyLr: FINE_TUNE_BODY_LR } : {}) },
    summary: `${name}: ${base.arch} with airbench's ingredients sized to ${data.train} training images`,
  };
  return { recipe, choices: [{ setting: "recipe", value: name, why: `image folder: ${base.arch}, Nesterov SGD, label smoothing 0.2, Lookahead, flip views (airbench's), sized to the data` }, ...choices] };
}

/** Folders: the per-class test fraction held out by default, or 0 with why not (the folder is too small). */
export function chooseTestFraction(classCounts: number[]): Choice {
  const smallest = Math.min(...classCounts);
  // 20 % of a class of 20 is 4 photos held out, and 16 to train and validate on.
  return smallest >= 20
    ? { setting: "test-fraction", value: 0.2, why: `20 % of every class held out for the final test accuracy (the smallest class has ${smallest} images)` }
    : { setting: "test-fraction", value: 0, why: `no test split: the smallest class has only ${smallest} images (< 20); use --test-fraction F to hold some out anyway` };
}

export function formatChoice(c: Choice): string {
  return `choice: ${c.setting} ${c.value} (${c.why})`;
}
