// One training step (forward, loss, backward, optimiser update) with the divergence guard: a
// non-finite loss stops before the update; a non-finite parameter after it names the tensor.
// Either way the caller's last checkpoint stays the latest good state, and NaN never gets saved.
// The halves are separate so that data-parallel training can compute gradients on several threads
// and update once: lossAndGradients per part of the batch, then checkLoss and applyUpdate.

import { softmaxCrossEntropy, type LossResult } from "./loss.ts";
import type { Network } from "./network.ts";
import type { Optimizer } from "./optimizer.ts";
import type { MaskStreams, Param } from "./layers/layer.ts";

export class DivergenceError extends Error {
  override name = "DivergenceError";
}

const ADVICE = "Lower the learning rate (--lr, e.g. by 10x) or use --optimizer adam; training stopped and nothing was saved from this step.";

export interface StepBuffers {
  dlogits: Float32Array;
}

export function makeStepBuffers(net: Network, batch: number): StepBuffers {
  return { dlogits: new Float32Array(batch * net.classes) };
}

export interface GradientOptions {
  smoothing?: number;
  /** Size of the whole batch when x holds only a part of it (default n): loss and grads are this part's share. */
  batch?: number;
  /** Per-example dropout streams (default: the network's rng, in order). */
  masks?: MaskStreams;
}

/**
 * Forward, loss and backward of n examples: fills every param's grad with d(mean batch loss)/d(param)
 * (this part's share of it). A non-finite loss skips the backward pass: checkLoss will stop the step.
 */
export function lossAndGradients(
  net: Network, x: Float32Array, labels: ArrayLike<number>, n: number, buffers: StepBuffers, options: GradientOptions = {},
): LossResult {
  const logits = net.forward(x, n, true, options.masks);
  const result = softmaxCrossEntropy(logits, labels, n, net.classes, buffers.dlogits, options.smoothing ?? 0, options.batch ?? n);
  if (Number.isFinite(result.loss)) net.backward(buffers.dlogits, n);
  return result;
}

/** Throws DivergenceError if the step's loss is NaN or infinite (before anything is updated). */
export function checkLoss(loss: number, step: number): void {
  if (!Number.isFinite(loss)) {
    throw new DivergenceError(`training diverged at step ${step}: the loss became ${loss}. ${ADVICE}`);
  }
}

/** One optimiser update from the params' grads; throws DivergenceError naming a non-finite tensor. */
export function applyUpdate(opt: Optimizer, params: Param[], step: number): void {
  opt.step(params);
  const bad = firstNonFinite(params);
  if (bad) throw nonFiniteError(bad, step);
}

/** The error for a parameter that became NaN or infinite at `step`. */
export function nonFiniteError(bad: { name: string; value: number }, step: number): DivergenceError {
  return new DivergenceError(`training diverged at step ${step}: ${bad.name} (layer ${bad.name.split(".")[0]}) has ${bad.value} values. ${ADVICE}`);
}

export function trainStep(
  net: Network, opt: Optimizer, x: Float32Array, labels: ArrayLike<number>, n: number,
  buffers: StepBuffers, step: number, smoothing = 0,
): LossResult {
  const result = lossAndGradients(net, x, labels, n, buffers, { smoothing });
  checkLoss(result.loss, step);
  applyUpdate(opt, net.params, step);
  return result;
}

/**
 * The first parameter holding NaN or Infinity, if any, among elements [from, to) of the params taken
 * as one flat vector in order (default: all).
 */
export function firstNonFinite(params: Param[], from = 0, to = Infinity): { name: string; value: number } | null {
  for (let pi = 0, offset = 0; pi < params.length; offset += params[pi].data.length, pi++) {
    const d = params[pi].data;
    for (let i = Math.max(0, from - offset), hi = Math.min(d.length, to - offset); i < hi; i++) {
      // x - x is 0 for finite x and NaN for NaN and +-Infinity: one cheap test per value.
      if (d[i] - d[i] !== 0) return { name: params[pi].name, value: d[i] };
    }
  }
  return null;
}
