// Data-parallel training steps on worker threads (worker_threads). Everything a step touches lives in
// SharedArrayBuffers: the weights (this thread's network and every worker's replica view one array,
// so nothing is copied per step), one gradient buffer per part of the batch, the optimiser's moments,
// and the batch itself. A step has two phases, each one small message per worker and one reply:
//   1. gradients: each worker computes the gradients of its parts of the batch into the parts' buffers
//      (a part's loss and gradient are its share of the batch mean: divided by the whole batch size);
//   2. update: after this thread has checked the loss, each worker sums the parts (in part order) over
//      its own range of the parameters and applies the optimiser update there, in place.
// The sums run in a fixed order whichever thread holds which part, so with a fixed number of parts the
// result does not depend on the number of threads; and the update is the same arithmetic as
// Optimizer.step. This thread keeps the optimiser's step count and hyperparameters (the checkpoint's).

import { Worker } from "node:worker_threads";
import type { LossResult } from "../../shared/loss.ts";
import { Network } from "../../shared/network.ts";
import { slotsPerParam, type Optimizer, type OptimizerHyper, type OptimizerKind } from "../../shared/optimizer.ts";
import type { RngState } from "../../shared/rng.ts";
import type { ArchSpec } from "../../shared/spec.ts";
import { DivergenceError, nonFiniteError } from "../../shared/train-step.ts";

export interface ParallelOptions {
  spec: ArchSpec;
  batch: number;
  /** Worker threads to start (at most one per part). */
  threads: number;
  /** The batch is cut into this many parts (pieceRange), one gradient buffer each, summed in order. */
  parts: number;
  smoothing: number;
  optimizer: OptimizerKind;
  /** Key of the per-example dropout streams (MaskStreams). */
  key: RngState;
  /** "ts" for the reference kernels, else each worker loads the best it can run (its own instance). */
  kernels: "ts" | "best";
  /** Param name -> optimiser group, where it differs from the layers' own (fine-tuning's "body"). */
  groups?: Record<string, string>;
}

/** What worker `index` of `threads` is started with (workerData). */
export interface WorkerSetup extends ParallelOptions {
  index: number;
  weights: Float32Array;
  grads: Float32Array; // parts x parameterCount
  slots: Float32Array; // the optimiser's moments (Optimizer storage)
  x: Float32Array;
  labels: Int32Array;
  sync: Int32Array; // a counter whose atomic updates order the plain reads and writes around messages
}

export type WorkerJob =
  | { type: "gradients"; step: number; n: number }
  | { type: "update"; t: number; hyper: OptimizerHyper };

export type WorkerReply =
  | { type: "ready" }
  | { type: "gradients"; results: LossResult[] }
  | { type: "updated"; bad: { name: string; value: number } | null }
  | { type: "error"; error: { name: string; message: string; stack?: string } };

const WORKER_URL = new URL("./step-worker.mjs", import.meta.url);

const shared = <T extends Float32Array | Int32Array>(Type: { new (b: SharedArrayBuffer): T; BYTES_PER_ELEMENT: number }, length: number): T =>
  new Type(new SharedArrayBuffer(length * Type.BYTES_PER_ELEMENT));

type Pending = { resolve(reply: WorkerReply): void; reject(e: Error): void };

export class ParallelSteps {
  /** The batch to fill before gradients(): examples and labels. */
  readonly x: Float32Array;
  readonly labels: Int32Array;
  /** Storage for the optimiser on this thread (its moments, updated by the workers). */
  readonly slots: Float32Array;
  private readonly weights: Float32Array;
  private readonly grads: Float32Array;
  private readonly sync = shared(Int32Array, 1);
  private readonly P: number;
  private readonly workers: Worker[] = [];
  private readonly pending: Array<Pending | null> = [];
  private failure: Error | null = null;
  private closing = false;

  private constructor(private readonly options: ParallelOptions) {
    const probe = new Network(options.spec);
    this.P = probe.parameterCount;
    this.weights = shared(Float32Array, this.P);
    this.grads = shared(Float32Array, options.parts * this.P);
    this.slots = shared(Float32Array, slotsPerParam(options.optimizer) * this.P);
    this.x = shared(Float32Array, options.batch * probe.inputSize);
    this.labels = shared(Int32Array, options.batch);
  }

  /** Starts the workers; resolves when every replica is built (or rejects with the first failure). */
  static async start(options: ParallelOptions): Promise<ParallelSteps> {
    if (!(options.parts >= 1 && options.threads >= 1)) throw new RangeError(`need at least one part and one thread, got ${options.parts} and ${options.threads}`);
    const pool = new ParallelSteps(options);
    const threads = Math.min(options.threads, options.parts);
    try {
      await Promise.all(Array.from({ length: threads }, (_, index) => pool.spawn({
        ...options, threads, index,
        weights: pool.weights, grads: pool.grads, slots: pool.slots, x: pool.x, labels: pool.labels, sync: pool.sync,
      })));
    } catch (e) {
      await pool.close();
      throw e;
    }
    return pool;
  }

  /** Threads computing each step. */
  get threads(): number {
    return this.workers.length;
  }

  /** Storage for this thread's network: its values are the shared weights, its grads part 0 (the sum). */
  get storage(): { params: Float32Array; grads: Float32Array } {
    return { params: this.weights, grads: this.grads.subarray(0, this.P) };
  }

  /**
   * Phase 1: the gradients of examples [0, n) of the batch at step `step` (1-based; names the dropout
   * streams), left in the parts' buffers. Returns the batch's mean loss and the correct predictions.
   */
  async gradients(n: number, step: number): Promise<LossResult> {
    const { batch } = this.options;
    if (!(Number.isInteger(n) && n >= 1 && n <= batch)) throw new RangeError(`a step needs 1 to ${batch} examples, got ${n}`);
    let loss = 0, correct = 0;
    for (const reply of await this.all({ type: "gradients", step, n })) {
      if (reply.type !== "gradients") continue;
      for (const r of reply.results) { loss += r.loss; correct += r.correct; } // part order
    }
    return { loss, correct };
  }

  /**
   * Phase 2: one update of `opt` (this thread's optimiser, whose moments are `slots`) from the sum of
   * the parts' gradients, made by the workers in place. Throws DivergenceError naming the first
   * parameter that became NaN or infinite, as a single-thread step would.
   */
  async update(opt: Optimizer, step: number): Promise<void> {
    opt.t++; // as Optimizer.step does; the workers apply the update of this t
    for (const reply of await this.all({ type: "update", t: opt.t, hyper: opt.hyper })) {
      // Workers hold ascending ranges, so the first one reporting has the first bad value.
      if (reply.type === "updated" && reply.bad) throw nonFiniteError(reply.bad, step);
    }
  }

  /** Stops the workers (any step in flight is abandoned). */
  async close(): Promise<void> {
    this.closing = true;
    await Promise.all(this.workers.map((w) => w.terminate()));
  }

  /** Posts one job to every worker and waits for all replies (in worker order). */
  private async all(job: WorkerJob): Promise<WorkerReply[]> {
    if (this.failure) throw this.failure;
    Atomics.add(this.sync, 0, 1); // see step-worker.ts
    const replies = await Promise.all(this.workers.map((worker, w) => new Promise<WorkerReply>((resolve, reject) => {
      this.pending[w] = { resolve, reject };
      worker.postMessage(job);
    })));
    Atomics.load(this.sync, 0);
    return replies;
  }

  private spawn(setup: WorkerSetup): Promise<void> {
    const w = setup.index;
    const worker = new Worker(WORKER_URL, { workerData: setup, name: `edge-cnn training ${w + 1}` });
    this.workers[w] = worker;
    return new Promise((ready, failed) => {
      this.pending[w] = { resolve: () => ready(), reject: failed }; // until the replica is built
      worker.on("message", (reply: WorkerReply) => {
        if (reply.type === "error") return this.fail(rebuild(reply.error));
        const p = this.pending[w];
        this.pending[w] = null;
        p?.resolve(reply);
      });
      worker.on("error", (e) => this.fail(rebuild({ name: e.name, message: `training thread ${w + 1} crashed: ${e.message}`, stack: e.stack })));
      worker.on("exit", (code) => {
        if (!this.closing) this.fail(new Error(`training thread ${w + 1} stopped unexpectedly (exit code ${code})`));
      });
    });
  }

  /** Records the first failure and rejects everything waiting for a worker. */
  private fail(e: Error): void {
    this.failure ??= e;
    for (let w = 0; w < this.pending.length; w++) {
      const p = this.pending[w];
      this.pending[w] = null;
      p?.reject(this.failure);
    }
  }
}

/** An Error from a worker's { name, message, stack }, as the same class where it matters (DivergenceError). */
function rebuild(data: { name: string; message: string; stack?: string }): Error {
  const e = data.name === "DivergenceError" ? new DivergenceError(data.message) : new Error(data.message);
  e.name = data.name; // the CLI prints known errors (by name) as one line
  if (data.stack) e.stack = `${data.stack}\n    (in a training worker thread)`;
  return e;
}
