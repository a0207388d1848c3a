// One data-parallel training thread (see parallel-steps.ts): a replica of the network whose weights are
// the shared weights (no copies). Phase 1 computes the gradients of this thread's parts of the batch
// into the parts' shared buffers; phase 2 sums the parts over this thread's range of the parameters
// and applies the optimiser update there, in place.

import { parentPort, workerData } from "node:worker_threads";
import type { LossResult } from "../../shared/loss.ts";
import { Network, paramViews } from "../../shared/network.ts";
import { tsKernels } from "../../shared/kernels/ts-kernels.ts";
import { Optimizer } from "../../shared/optimizer.ts";
import { firstNonFinite, lossAndGradients, makeStepBuffers } from "../../shared/train-step.ts";
import { loadBestKernels } from "../kernels-node.ts";
import { pieceRange } from "./batch-parts.ts";
import type { WorkerJob, WorkerReply, WorkerSetup } from "./parallel-steps.ts";

const setup = workerData as WorkerSetup;
const port = parentPort!;
const reply = (m: WorkerReply): void => port.postMessage(m);

try {
  const { spec, weights, grads, x, labels, parts, batch, smoothing, key, sync, threads, index } = setup;
  if (setup.kernels !== "ts" && setup.kernels !== "best") throw new Error(`unknown kernels "${setup.kernels}" (expected ts or best)`);
  const net = new Network(spec, { kernels: setup.kernels === "ts" ? tsKernels : loadBestKernels(), storage: { params: weights } });
  for (const p of net.params) if (setup.groups?.[p.name] !== undefined) p.group = setup.groups[p.name];
  const P = net.parameterCount, inputSize = net.inputSize;
  const partGrads = Array.from({ length: parts }, (_, s) => paramViews(grads.subarray(s * P, (s + 1) * P), net.params));
  const useGrads = (s: number): void => net.params.forEach((p, i) => { p.grad = partGrads[s][i]; });
  const opt = new Optimizer(setup.optimizer, net.params, {}, setup.slots); // t and hyper come with each update
  const buffers = makeStepBuffers(net, batch);
  const [firstPart, endPart] = pieceRange(parts, threads, index);
  const [lo, hi] = pieceRange(P, threads, index); // this thread's range of the parameters

  const gradients = (step: number, n: number): LossResult[] => {
    const results = [];
    for (let s = firstPart; s < endPart; s++) {
      const [start, end] = pieceRange(n, parts, s);
      if (start === end) { // a batch smaller than the parts: this part adds nothing
        grads.fill(0, s * P, (s + 1) * P);
        results.push({ loss: 0, correct: 0 });
        continue;
      }
      useGrads(s);
      results.push(lossAndGradients(net, x.subarray(start * inputSize, end * inputSize), labels.subarray(start, end), end - start, buffers, {
        smoothing, batch: n, masks: { key, step, first: start },
      }));
    }
    return results;
  };

  const update = (t: number, hyper: Optimizer["hyper"]): { name: string; value: number } | null => {
    for (let s = 1; s < parts; s++) { // part 0 += part s, in part order
      for (let i = lo, o = s * P; i < hi; i++) grads[i] += grads[o + i];
    }
    useGrads(0);
    opt.t = t;
    opt.hyper = hyper;
    opt.updateRange(net.params, lo, hi);
    return firstNonFinite(net.params, lo, hi);
  };

  port.on("message", (job: WorkerJob) => {
    // An atomic read of the counter the main thread bumped before posting (and an atomic write before
    // replying): what the other threads wrote before is then visible here by the memory model's rules,
    // not only because postMessage happens to take a lock.
    Atomics.load(sync, 0);
    try {
      const out: WorkerReply = job.type === "gradients"
        ? { type: "gradients", results: gradients(job.step, job.n) }
        : { type: "updated", bad: update(job.t, job.hyper) };
      Atomics.add(sync, 0, 1);
      reply(out);
    } catch (e) {
      reply({ type: "error", error: errorData(e) });
    }
  });
  reply({ type: "ready" });
} catch (e) {
  reply({ type: "error", error: errorData(e) });
}

function errorData(e: unknown): { name: string; message: string; stack?: string } {
  const err = e instanceof Error ? e : new Error(String(e));
  return { name: err.name, message: err.message, stack: err.stack };
}
