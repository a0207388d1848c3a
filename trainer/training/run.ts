// The training loop. All of a run's state lives in one plain `RunState` object, which is exactly what
// a checkpoint stores: continuing from a checkpoint replays the same shuffles, augmentations and
// dropout masks as the uninterrupted run and gives the same weights, bit for bit.
// Each step runs on this thread or on worker threads (step-runner.ts): one optimiser update per batch
// either way. Dropout masks are drawn per example from streams named (step, example, layer), so they
// are the same however the batch is spread over threads.

import { initNetwork } from "../../shared/init.ts";
import { whiteningFilters } from "../../shared/whitening.ts";
import type { Kernels } from "../../shared/kernels/kernels.ts";
import { Network } from "../../shared/network.ts";
import type { OptimizerKind, OptimizerState } from "../../shared/optimizer.ts";
import type { PreprocessSpec } from "../../shared/preprocess.ts";
import { Rng, type RngState } from "../../shared/rng.ts";
import type { ArchSpec } from "../../shared/spec.ts";
import { subset, type Dataset } from "../dataset/dataset.ts";
import { BatchMaker, type Augmentation } from "./batches.ts";
import { evaluateDataset } from "./evaluate.ts";
import { startStepRunner, type StepRunner } from "./step-runner.ts";
import { learningRate, type ScheduleKind } from "./schedule.ts";
import { loadBestKernels } from "../kernels-node.ts";
import { bodyGroups } from "./fine-tune.ts";

export interface TrainConfig {
  epochs: number;
  batch: number;
  lr: number;
  optimizer: OptimizerKind;
  schedule: ScheduleKind;
  warmupSteps: number;
  weightDecay: number;
  labelSmoothing: number;
  augment: Augmentation;
  seed: number;
  /** "best": the saved weights are those of the epoch with the best validation accuracy. */
  keep: "best" | "last";
  /**
   * --deterministic: every batch is cut into this many fixed parts whose gradients are summed in order,
   * so the results are bit-identical whatever the number of threads. Absent: one part per thread
   * (the same results up to float rounding).
   */
  deterministicParts?: number;
  /** Momentum of momentum/nesterov (default 0.9). */
  momentum?: number;
  /** Learning-rate multipliers per parameter group (airbench: batchnorm biases x64). */
  groupLr?: Record<string, number>;
  /** Train the whitening conv's bias for this many epochs, then freeze it (airbench: 3). */
  whitenBiasEpochs?: number;
  /** Lookahead (airbench): every 5 steps the weights move to an average that trails them, with a
   *  weight rising as (step/total)^3; the final weights are that average. */
  lookahead?: boolean;
  /** Fine-tuning: the learning-rate multiplier of the body (every layer before the classifier; 0 freezes
   *  it), through the optimiser group "body" (fine-tune.ts). Absent: one group as usual. */
  bodyLr?: number;
}

/** Images whose statistics set the whitening filters. */
const WHITEN_IMAGES = 5000;
/**
 * Images whose statistics set the batchnorm running statistics after every epoch. Recalibrating the
 * shipped CIFAR-10 model with 256 / 512 / 1024 / 2048 random training images (two draws each) gave
 * 92.7-93.3 / 93.1-93.3 / 93.0-93.3 / 92.8-93.3 % validation: no trend beyond noise, and 512 costs a
 * quarter of 2048 (it runs on one thread between epochs: on a 2,300-image folder 2048 took as long as
 * the epoch's training).
 */
const CALIBRATION_IMAGES = 512;
const LOOKAHEAD_EVERY = 5;

export interface EpochRecord {
  epoch: number;
  trainLoss: number;
  trainAccuracy: number;
  valLoss?: number;
  valAccuracy?: number;
  seconds: number;
  lr: number;
}

export interface RunState {
  version: 1;
  config: TrainConfig;
  spec: ArchSpec;
  labels: string[];
  preprocess: PreprocessSpec;
  /** Indices into the training dataset: the examples trained on and the validation hold-out. */
  split: { train: Int32Array; val: Int32Array };
  /** Identifies the data the split refers to; a resume on other data is refused. */
  dataFingerprint: string;
  /** Completed epochs, batches done in the current epoch, and steps in all. */
  epoch: number;
  stepInEpoch: number;
  step: number;
  /** Shuffle RNG state at the start of the current epoch (re-shuffling gives the same order). */
  epochRng: RngState;
  augRng: RngState;
  /** Key of the dropout mask streams: example e of step t draws from stream (t, e, layer) under it. */
  netRng: RngState;
  optimizer: OptimizerState | null;
  weights: Float32Array[];
  best: { epoch: number; valAccuracy: number; weights: Float32Array[] } | null;
  /** The Lookahead average of the weights (config.lookahead), else null. */
  lookahead?: Float32Array[] | null;
  /** Loss of every step, and one record per completed epoch. */
  stepLoss: Float32Array;
  epochs: EpochRecord[];
  /** Running sums of the epoch in progress, so a mid-epoch resume reports the same epoch numbers. */
  epochLossSum: number;
  epochCorrect: number;
  epochSeen: number;
  seconds: number;
}

export function stepsPerEpoch(state: RunState): number {
  return Math.ceil(state.split.train.length / state.config.batch);
}

/** A fresh run: He-initialised weights from the seed, nothing trained yet. */
export function newRunState(args: {
  config: TrainConfig; spec: ArchSpec; labels: string[]; preprocess: PreprocessSpec;
  split: { train: Int32Array; val: Int32Array }; dataFingerprint: string;
}, train?: Dataset): RunState {
  const net = new Network(args.spec, { seed: args.config.seed + 2 });
  initNetwork(net, args.config.seed);
  if (train) initWhitening(net, train, args.split.train, args.preprocess);
  const total = Math.ceil(args.split.train.length / args.config.batch) * args.config.epochs;
  return {
    version: 1, ...args,
    epoch: 0, stepInEpoch: 0, step: 0,
    epochRng: new Rng(args.config.seed + 1).getState(),
    augRng: new Rng(args.config.seed + 3).getState(),
    netRng: net.rng.getState(),
    optimizer: null,
    weights: net.params.map((p) => p.data),
    best: null,
    stepLoss: new Float32Array(total),
    lookahead: args.config.lookahead ? net.params.map((p) => p.data.slice()) : null,
    epochs: [],
    epochLossSum: 0, epochCorrect: 0, epochSeen: 0,
    seconds: 0,
  };
}

/** Sets every whitening conv's filters from the first WHITEN_IMAGES training images (as the net sees them). */
export function initWhitening(net: Network, train: Dataset, indices: Int32Array, preprocess: PreprocessSpec): void {
  const spec = net.spec.layers;
  net.layers.forEach((layer, i) => {
    const l = spec[i];
    if (l.type !== "conv" || l.init !== "whiten") return;
    if (i !== 0) throw new Error(`layer ${layer.name}: a whitening conv must be the first layer`);
    const count = Math.min(WHITEN_IMAGES, indices.length);
    const maker = new BatchMaker(train, count, preprocess);
    maker.fill(indices, 0, count);
    const [C, H, W] = layer.inShape;
    const filters = whiteningFilters(maker.x, count, C, H, W, l.size);
    const w = layer.params[0];
    if (filters.length !== w.data.length) throw new Error(`layer ${layer.name}: a ${l.size}x${l.size} whitening conv on ${C} channels needs ${filters.length / (C * l.size * l.size)} filters, got ${l.filters}`);
    w.data.set(filters);
  });
}

/**
 * Sets the batchnorm running statistics from CALIBRATION_IMAGES training images (no augmentation),
 * spread evenly over the training set: its indices are sorted, and a folder's pool lists class by
 * class, so the first 512 of 2,304 Dogs vs Cats photos were all cats (and the statistics, and the
 * validation accuracy, wrong).
 */
function calibrate(net: Network, maker: BatchMaker, indices: Int32Array): void {
  const sample = calibrationSample(indices), count = sample.length, b = maker.batch;
  net.calibrateBatchnorm((forward) => {
    for (let s = 0; s < count; s += b) {
      const n = Math.min(b, count - s);
      maker.fill(sample, s, n);
      forward(maker.x, n);
    }
  });
}

/** CALIBRATION_IMAGES of `indices` (all if fewer), evenly spaced over the whole list. */
export function calibrationSample(indices: Int32Array, size = CALIBRATION_IMAGES): Int32Array {
  const count = Math.min(size, indices.length);
  return Int32Array.from({ length: count }, (_, i) => indices[Math.floor((i * indices.length) / count)]);
}

export interface StepInfo {
  epoch: number; // 1-based epoch in progress
  epochs: number;
  stepInEpoch: number; // 1-based
  stepsPerEpoch: number;
  loss: number;
  accuracy: number; // running accuracy of the epoch so far
  imagesPerSecond: number;
  lr: number;
}

export interface RunHooks {
  onStep?(info: StepInfo): void;
  onEpoch?(record: EpochRecord, state: RunState): void;
  /** Called at every epoch end and when stopping early; must persist the state (checkpoint). */
  checkpoint?(state: RunState): void;
  /** Polled after every step: true finishes the step, checkpoints and returns. */
  shouldStop?(): boolean;
}

/** Param name -> optimiser group for this run, where it differs from the layers' own (fine-tuning). */
export function paramGroups(state: RunState): Record<string, string> | undefined {
  return state.config.bodyLr === undefined ? undefined : bodyGroups(state.spec, new Network(state.spec).params);
}

/** Puts params in the groups `groups` names (every thread's replica, so all apply the same multipliers). */
export function applyGroups(net: Network, groups: Record<string, string> | undefined): void {
  if (groups) for (const p of net.params) if (groups[p.name] !== undefined) p.group = groups[p.name];
}

/**
 * Builds the network holding the state's weights (the arrays are copied into the network, or into
 * `storage` when given: see Network).
 */
export function networkFromState(state: RunState, kernels: Kernels = loadBestKernels(), storage?: { params?: Float32Array; grads?: Float32Array }): Network {
  const net = new Network(state.spec, { seed: state.config.seed + 2, kernels, storage });
  applyGroups(net, paramGroups(state));
  net.params.forEach((p, i) => p.data.set(state.weights[i]));
  net.rng.setState(state.netRng);
  return net;
}

export interface RunOptions {
  /** Threads computing each step (default 1: this thread only). */
  threads?: number;
  /** Kernels of this thread's network (default: the best available); workers load their own. */
  kernels?: Kernels;
}

/**
 * Trains from `state` until state.config.epochs are done or hooks.shouldStop() says stop.
 * `train` is the full training dataset that state.split indexes into.
 */
export async function runTraining(state: RunState, train: Dataset, hooks: RunHooks = {}, options: RunOptions = {}): Promise<{ net: Network; state: RunState; stopped: boolean }> {
  const { config } = state;
  const runner = await startStepRunner({
    spec: state.spec, batch: config.batch, smoothing: config.labelSmoothing,
    optimizer: config.optimizer, hyper: { lr: config.lr, weightDecay: config.weightDecay, momentum: config.momentum ?? 0.9, groupLr: { ...config.groupLr, ...(config.bodyLr !== undefined ? { body: config.bodyLr } : {}) } }, key: state.netRng,
    groups: paramGroups(state),
    kernels: options.kernels ?? loadBestKernels(), threads: options.threads ?? 1, parts: config.deterministicParts,
    makeNet: (kernels, storage) => networkFromState(state, kernels, storage),
  });
  try {
    return await trainLoop(state, train, hooks, runner);
  } finally {
    await runner.close();
  }
}

async function trainLoop(state: RunState, train: Dataset, hooks: RunHooks, runner: StepRunner): Promise<{ net: Network; state: RunState; stopped: boolean }> {
  const { config } = state;
  const { net, opt } = runner;
  // The state now refers to the network's own arrays, so checkpoints always see the current weights.
  state.weights = net.params.map((p) => p.data);
  if (state.optimizer) opt.setState(state.optimizer);
  const maker = new BatchMaker(train, config.batch, state.preprocess, { x: runner.x, labels: runner.labels });
  const val = state.split.val.length > 0 ? subset(train, state.split.val) : null;
  const hasBatchnorm = state.spec.layers.some((l) => l.type === "batchnorm");
  const calibrationMaker = hasBatchnorm ? new BatchMaker(train, 256, state.preprocess) : null;
  const trainable = net.params.map((p) => p.trainable !== false);
  const lookahead = (decay: number): void => {
    const ema = state.lookahead;
    if (!ema) return;
    net.params.forEach((p, i) => {
      if (!trainable[i]) return;
      const e = ema[i], d = p.data, k = 1 - decay;
      for (let j = 0; j < d.length; j++) { e[j] += k * (d[j] - e[j]); d[j] = e[j]; }
    });
  };
  const perEpoch = stepsPerEpoch(state), total = perEpoch * config.epochs;
  const augRng = new Rng(state.augRng);
  const syncState = (): void => {
    state.augRng = augRng.getState();
    state.optimizer = opt.getState();
  };

  while (state.epoch < config.epochs) {
    const epochStart = performance.now(), secondsBefore = state.seconds;
    const shuffleRng = new Rng(state.epochRng);
    if (config.whitenBiasEpochs !== undefined) opt.hyper.groupLr = { ...opt.hyper.groupLr, whiten: state.epoch < config.whitenBiasEpochs ? 1 : 0 };
    const order = state.split.train.slice();
    shuffleRng.shuffle(order);
    let windowStart = performance.now(), windowImages = 0;
    for (let b = state.stepInEpoch; b < perEpoch; b++) {
      const start = b * config.batch, n = Math.min(config.batch, order.length - start);
      maker.fill(order, start, n, config.augment, augRng, state.epoch, config.seed);
      opt.hyper.lr = learningRate(config.schedule, config.lr, state.step, total, config.warmupSteps);
      const { loss, correct } = await runner.step(n, state.step + 1);
      state.stepLoss[state.step] = loss;
      state.step++;
      if (state.lookahead) {
        // As airbench: the every-5-steps update also on the last step (else a run whose last step is a
        // multiple of 5 throws its last 5 steps away), then the final weights are the average.
        if (state.step % LOOKAHEAD_EVERY === 0) lookahead(0.95 ** 5 * (state.step / total) ** 3);
        if (state.step >= total) lookahead(1);
      }
      state.stepInEpoch = b + 1;
      state.epochLossSum += loss * n;
      state.epochCorrect += correct;
      state.epochSeen += n;
      windowImages += n;
      const now = performance.now();
      hooks.onStep?.({
        epoch: state.epoch + 1, epochs: config.epochs, stepInEpoch: b + 1, stepsPerEpoch: perEpoch,
        loss, accuracy: state.epochCorrect / state.epochSeen,
        imagesPerSecond: (windowImages * 1000) / Math.max(1, now - windowStart), lr: opt.hyper.lr,
      });
      if (now - windowStart > 5000) { windowStart = now; windowImages = 0; }
      state.seconds = secondsBefore + (performance.now() - epochStart) / 1000;
      // Let signal handlers run between steps (Ctrl-C sets the stop flag).
      await new Promise<void>((resolve) => setImmediate(resolve));
      if (hooks.shouldStop?.() && state.stepInEpoch < perEpoch) {
        syncState();
        hooks.checkpoint?.(state);
        return { net, state, stopped: true };
      }
    }
    if (calibrationMaker) calibrate(net, calibrationMaker, state.split.train);
    const evaluation = val ? evaluateDataset(net, val, state.preprocess, Math.min(Math.max(config.batch, 100), 500)) : null;
    // The epoch's time includes calibration and validation: they are part of what a run costs.
    state.seconds = secondsBefore + (performance.now() - epochStart) / 1000;
    const record: EpochRecord = {
      epoch: state.epoch + 1,
      trainLoss: state.epochLossSum / state.epochSeen,
      trainAccuracy: state.epochCorrect / state.epochSeen,
      ...(evaluation ? { valLoss: evaluation.loss, valAccuracy: evaluation.accuracy } : {}),
      seconds: state.seconds - secondsBefore,
      lr: opt.hyper.lr,
    };
    state.epochs.push(record);
    if (evaluation && (!state.best || evaluation.accuracy > state.best.valAccuracy)) {
      state.best = { epoch: record.epoch, valAccuracy: evaluation.accuracy, weights: net.params.map((p) => p.data.slice()) };
    }
    state.epoch++;
    state.stepInEpoch = 0;
    state.epochLossSum = 0; state.epochCorrect = 0; state.epochSeen = 0;
    state.epochRng = shuffleRng.getState();
    syncState();
    hooks.onEpoch?.(record, state);
    hooks.checkpoint?.(state);
    if (hooks.shouldStop?.() && state.epoch < config.epochs) return { net, state, stopped: true };
  }
  if (config.keep === "best" && state.best) net.params.forEach((p, i) => p.data.set(state.best!.weights[i]));
  return { net, state, stopped: false };
}

