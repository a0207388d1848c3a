// Data-parallel training on worker threads: the parts' gradients sum to the whole batch's and the
// in-place update equals Optimizer.step, 1 and 2 threads train alike (bit for bit under --deterministic,
// also across a resume), and a failure in a worker surfaces on the main thread as a clear error
// instead of a hang.

import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { applyUpdate, defaultPreprocess, DivergenceError, heInit, lossAndGradients, makeStepBuffers, Network, Optimizer, Rng, seedCnn, tsKernels } from "../../shared/index.ts";
import { loadCheckpoint, saveCheckpoint } from "../../trainer/training/checkpoint.ts";
import { ParallelSteps } from "../../trainer/training/parallel-steps.ts";
import { newRunState, runTraining, type RunState, type TrainConfig } from "../../trainer/training/run.ts";
import { syntheticDataset, TINY_SPEC } from "./synthetic.ts";

const spec = TINY_SPEC;

// Batch 7 over 50 examples: 7 full batches and a last one of 1, which leaves some parts empty.
const config: TrainConfig = {
  epochs: 3, batch: 7, lr: 3e-3, optimizer: "adam", schedule: "cosine", warmupSteps: 2, weightDecay: 1e-4,
  labelSmoothing: 0.1, augment: { flip: true, pad: 2 }, seed: 5, keep: "last",
};
const data = syntheticDataset(60);

function fresh(cfg: TrainConfig = config): RunState {
  const idx = Int32Array.from({ length: 60 }, (_, i) => i);
  return newRunState({ config: cfg, spec, labels: data.classes, preprocess: defaultPreprocess([8, 8]), split: { train: idx.slice(0, 50), val: idx.slice(50) }, dataFingerprint: "test" });
}

const weightsOf = (net: Network): number[] => net.params.flatMap((p) => Array.from(p.data));

const close = (got: Float32Array, want: Float32Array, what: string): void => {
  const scale = Math.max(...want.map(Math.abs));
  got.forEach((g, j) => expect(Math.abs(g - want[j]), `${what}[${j}]`).toBeLessThan(1e-5 * scale));
};

describe("data-parallel steps", () => {
  it("the parts' gradients sum to the whole batch's mean gradient and the in-place update is Optimizer.step's (uneven parts, dropout on)", async () => {
    const key = new Rng(4).getState(), n = 7, hyper = { lr: 0.01, weightDecay: 0.1 };
    const whole = new Network(spec, { kernels: tsKernels, seed: 1 });
    heInit(whole.params, 3);
    const start = whole.params.map((p) => p.data.slice());
    const rng = new Rng(2);
    const x = new Float32Array(n * whole.inputSize).map(() => rng.uniform()), labels = new Int32Array(n).map(() => rng.int(3));
    const expected = lossAndGradients(whole, x, labels, n, makeStepBuffers(whole, n), { smoothing: 0.1, masks: { key, step: 9, first: 0 } });
    const wholeOpt = new Optimizer("adam", whole.params, hyper);
    wholeOpt.t = 8;
    applyUpdate(wholeOpt, whole.params, 9);

    const pool = await ParallelSteps.start({ spec, batch: n, threads: 2, parts: 3, smoothing: 0.1, optimizer: "adam", key, kernels: "ts" });
    try {
      const net = new Network(spec, { kernels: tsKernels, storage: pool.storage });
      net.params.forEach((p, i) => p.data.set(start[i]));
      const opt = new Optimizer("adam", net.params, hyper, pool.slots);
      opt.t = 8;
      pool.x.set(x); pool.labels.set(labels);
      const got = await pool.gradients(n, 9);
      await pool.update(opt, 9);
      expect(pool.threads).toBe(2);
      expect(opt.t).toBe(9);
      expect(got.correct).toBe(expected.correct);
      expect(got.loss).toBeCloseTo(expected.loss, 6);
      net.params.forEach((p, i) => {
        close(p.grad, whole.params[i].grad, `${p.name}.grad`); // part 0 holds the sum
        close(p.data, whole.params[i].data, p.name);
      });
      opt.getState().slots.forEach((s, i) => close(s, wholeOpt.getState().slots[i], `slot ${i}`));
    } finally {
      await pool.close();
    }
  });

  it("1 and 2 threads train alike: within float rounding by default, bit for bit under --deterministic", async () => {
    const one = await runTraining(fresh(), data, {}, { threads: 1 });
    const two = await runTraining(fresh(), data, {}, { threads: 2 });
    const a = weightsOf(one.net), b = weightsOf(two.net);
    const scale = Math.max(...a.map(Math.abs));
    a.forEach((v, i) => expect(Math.abs(v - b[i])).toBeLessThan(1e-5 * scale));
    two.state.stepLoss.forEach((l, i) => expect(l).toBeCloseTo(one.state.stepLoss[i], 5));

    const det = { ...config, deterministicParts: 4 };
    const runs = await Promise.all([1, 2, 3].map((threads) => runTraining(fresh(det), data, {}, { threads })));
    for (const r of runs.slice(1)) {
      expect(weightsOf(r.net)).toEqual(weightsOf(runs[0].net));
      expect(Array.from(r.state.stepLoss)).toEqual(Array.from(runs[0].state.stepLoss));
    }
  });

  it("--deterministic: stopped on 2 threads and resumed on 1, the weights equal the uninterrupted run's", async () => {
    const det = { ...config, deterministicParts: 4 };
    const whole = await runTraining(fresh(det), data, {}, { threads: 2 });
    const dir = mkdtempSync(join(tmpdir(), "edge-cnn-parallel-"));
    let polls = 0;
    const first = await runTraining(fresh(det), data, { shouldStop: () => ++polls === 11, checkpoint: (s) => saveCheckpoint(join(dir, "last.ckpt"), s) }, { threads: 2 });
    expect(first.stopped).toBe(true);
    const second = await runTraining(loadCheckpoint<RunState>(join(dir, "last.ckpt")), data, {}, { threads: 1 });
    expect(weightsOf(second.net)).toEqual(weightsOf(whole.net));
  });
});

describe("failures in worker threads", () => {
  it("divergence on 2 threads stops with the same DivergenceError as on one", async () => {
    const diverging = { ...config, optimizer: "sgd" as const, lr: 1e5, schedule: "none" as const, warmupSteps: 0 };
    const errors = await Promise.all([1, 2].map((threads) => runTraining(fresh(diverging), data, {}, { threads }).then(() => null, (e) => e)));
    for (const e of errors) expect(e).toBeInstanceOf(DivergenceError);
    expect(errors[1].message).toMatch(/^training diverged at step \d+: /);
    expect(errors[1].message.replace(/-?Infinity|NaN/g, "X")).toBe(errors[0].message.replace(/-?Infinity|NaN/g, "X"));
  });

  it("a worker that cannot start fails the start with its own message", async () => {
    const start = ParallelSteps.start({ spec, batch: 4, threads: 2, parts: 2, smoothing: 0, optimizer: "adam", key: [1, 2, 3, 4], kernels: "gpu" as "ts" });
    await expect(start).rejects.toThrow('unknown kernels "gpu" (expected ts or best)');
  });

  it("a worker that dies, mid-step or between steps, rejects the step instead of hanging", async () => {
    const big = seedCnn(10); // a step long enough (tens of ms) to kill a worker in the middle of it
    for (const when of ["mid-step", "between steps"]) {
      const pool = await ParallelSteps.start({ spec: big, batch: 100, threads: 2, parts: 2, smoothing: 0, optimizer: "adam", key: [1, 2, 3, 4], kernels: "best" });
      try {
        new Network(big, { storage: pool.storage }).params.forEach((p) => p.data.fill(0.01));
        await pool.gradients(100, 1);
        const killed = pool["workers"][1]; // as if the thread crashed
        const step = when === "mid-step" ? pool.gradients(100, 2) : null;
        await killed.terminate();
        await expect(step ?? pool.gradients(100, 2)).rejects.toThrow(/^training thread 2 stopped unexpectedly \(exit code 1\)$/);
      } finally {
        await pool.close();
      }
    }
  });
});

