// Who makes a training step: this thread (one pass over the whole batch, then the update), or worker
// threads (parallel-steps.ts). Either way the caller fills the batch buffers and calls step(); the
// runner owns the network and the optimiser whose state the run checkpoints.

import type { Kernels } from "../../shared/kernels/kernels.ts";
import type { LossResult } from "../../shared/loss.ts";
import type { Network } from "../../shared/network.ts";
import { Optimizer, type OptimizerHyper, type OptimizerKind } from "../../shared/optimizer.ts";
import type { RngState } from "../../shared/rng.ts";
import type { ArchSpec } from "../../shared/spec.ts";
import { applyUpdate, checkLoss, lossAndGradients, makeStepBuffers } from "../../shared/train-step.ts";
import { ParallelSteps } from "./parallel-steps.ts";

export interface StepRunner {
  readonly net: Network;
  readonly opt: Optimizer;
  /** The batch (examples, labels) that step() trains on. */
  readonly x: Float32Array;
  readonly labels: Int32Array;
  /** Threads computing each step. */
  readonly threads: number;
  /**
   * One training step on examples [0, n) of the batch: gradients, the loss check, one optimiser update.
   * `step` (1-based) names the dropout streams and the errors. Throws DivergenceError.
   */
  step(n: number, step: number): Promise<LossResult>;
  close(): Promise<void>;
}

export interface StepRunnerOptions {
  spec: ArchSpec;
  batch: number;
  smoothing: number;
  optimizer: OptimizerKind;
  hyper: Partial<OptimizerHyper>;
  /** Key of the per-example dropout streams. */
  key: RngState;
  /** Kernels of this thread's network (workers load their own instance of the same kind). */
  kernels: Kernels;
  /** Threads to use; 1 trains on this thread. */
  threads: number;
  /** Cut every batch into this many fixed parts (bit-identical for any thread count); default: one per thread. */
  parts?: number;
  /** Param name -> optimiser group, where it differs from the layers' own (applied in every thread). */
  groups?: Record<string, string>;
  /** Makes the network (its params and grads in `storage` when given). */
  makeNet(kernels: Kernels, storage?: { params: Float32Array; grads: Float32Array }): Network;
}

export async function startStepRunner(o: StepRunnerOptions): Promise<StepRunner> {
  if (o.threads === 1 && !o.parts) return localRunner(o);
  const pool = await ParallelSteps.start({
    spec: o.spec, batch: o.batch, threads: o.threads, parts: o.parts ?? Math.min(o.threads, o.batch), smoothing: o.smoothing,
    optimizer: o.optimizer, key: o.key, kernels: o.kernels.name === "ts" ? "ts" : "best", groups: o.groups,
  });
  try {
    const net = o.makeNet(o.kernels, pool.storage);
    const opt = new Optimizer(o.optimizer, net.params, o.hyper, pool.slots);
    return {
      net, opt, x: pool.x, labels: pool.labels, threads: pool.threads,
      step: async (n, step) => {
        const result = await pool.gradients(n, step);
        checkLoss(result.loss, step);
        await pool.update(opt, step);
        return result;
      },
      close: () => pool.close(),
    };
  } catch (e) {
    await pool.close();
    throw e;
  }
}

/** The whole batch in one forward and backward pass on this thread, then the update. */
function localRunner(o: StepRunnerOptions): StepRunner {
  const net = o.makeNet(o.kernels);
  const opt = new Optimizer(o.optimizer, net.params, o.hyper);
  const x = new Float32Array(o.batch * net.inputSize), labels = new Int32Array(o.batch);
  const buffers = makeStepBuffers(net, o.batch);
  return {
    net, opt, x, labels, threads: 1,
    step: async (n, step) => {
      const result = lossAndGradients(net, x, labels, n, buffers, { smoothing: o.smoothing, masks: { key: o.key, step, first: 0 } });
      checkLoss(result.loss, step);
      applyUpdate(opt, net.params, step);
      return result;
    },
    close: async () => {},
  };
}
