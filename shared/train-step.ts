// One training step (forward, loss, backward, optimiser update) with the divergence guard: a
// non-finite loss stops before the update; a non-finite parameter after it names the tensor.
// Either way the caller's last checkpoint stays the latest good state, and NaN never gets saved.

import { softmaxCrossEntropy, type LossResult } from "./loss.ts";
import type { Network } from "./network.ts";
import type { Optimizer } from "./optimizer.ts";
import type { Param } from "./layers/layer.ts";

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

export function trainStep(
  net: Network, opt: Optimizer, x: Float32Array, labels: ArrayLike<number>, n: number,
  buffers: StepBuffers, step: number, smoothing = 0,
): LossResult {
  const logits = net.forward(x, n, true);
  const result = softmaxCrossEntropy(logits, labels, n, net.classes, buffers.dlogits, smoothing);
  if (!Number.isFinite(result.loss)) {
    throw new DivergenceError(`training diverged at step ${step}: the loss became ${result.loss}. ${ADVICE}`);
  }
  net.backward(buffers.dlogits, n);
  opt.step(net.params);
  const bad = firstNonFinite(net.params);
  if (bad) throw new DivergenceError(`training diverged at step ${step}: ${bad.name} (layer ${bad.name.split(".")[0]}) has ${bad.value} values. ${ADVICE}`);
  return result;
}

/** The first parameter holding NaN or Infinity, if any. */
export function firstNonFinite(params: Param[]): { name: string; value: number } | null {
  for (const p of params) {
    const d = p.data;
    for (let i = 0; i < d.length; i++) {
      // x - x is 0 for finite x and NaN for NaN and +-Infinity: one cheap test per value.
      if (d[i] - d[i] !== 0) return { name: p.name, value: d[i] };
    }
  }
  return null;
}
