// `npm run bench [-- --json] [-- --quick]`: the project's speed benchmark on seed-cnn with 10 classes.
// Each figure is the median of repeated timed runs after a warm-up. onnxruntime-web (wasm, 1 thread)
// runs the very same weights in the same process as the reference, so the ratios stay meaningful on a
// noisy machine; the ratio column is ours / theirs in time per image (< 1: ours is faster).
//
// Rows: training at batch 100 on 1 thread, forward latency for one image, forward throughput at
// batch 100, for each kernel implementation (the TS reference and Wasm SIMD), plus the one-image
// forward with frozen weights (Network.freeze(): what the Worker does), and Wasm SIMD training on all
// cores (worker threads, as `edge-cnn train --threads N` runs it). The 1-thread and all-cores training
// steps alternate, so both see the same machine load. Workerd figures will be further rows with their
// own `runtime` field.

import os from "node:os";
import * as ort from "onnxruntime-web";
import { heInit, Network, Rng, seedCnn, tsKernels, type Kernels } from "../shared/index.ts";
import { loadWasmKernels } from "./kernels-node.ts";
import { benchWorkerdForward } from "./bench-workerd.ts";
import { exportOnnx } from "./onnx-export.ts";
import { startStepRunner } from "./training/step-runner.ts";

type Measure = "train100" | "forward1" | "forward100";

interface Figure {
  measure: Measure;
  name: string;
  kernels: string; // implementation that produced the figure
  threads: number;
  runtime: string;
  median: number;
  unit: "img/s" | "ms";
  runs: number;
  /** Ours / onnxruntime-web, time per image (forward figures only; < 1 means ours is faster). */
  vsOnnx?: number;
}

const NAMES: Record<Measure, string> = {
  train100: "train, batch 100",
  forward1: "forward, 1 image",
  forward100: "forward, batch 100",
};

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

/** Runs fn `warmup` times, then `runs` times, returning each timed run's milliseconds. */
async function time(fn: () => unknown, runs: number, warmup: number): Promise<number[]> {
  for (let i = 0; i < warmup; i++) await fn();
  const ms: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    await fn();
    ms.push(performance.now() - t);
  }
  return ms;
}

/** The benchmark's network (seed-cnn, 10 classes, He init from seed 1) and inputs (seed 2). */
function setup(kernels: Kernels) {
  const net = new Network(seedCnn(10), { kernels, seed: 1 });
  heInit(net.params, 1);
  const rng = new Rng(2);
  const x100 = new Float32Array(100 * 3072).map(() => rng.uniform());
  const labels = new Int32Array(100).map(() => rng.int(10));
  return { net, x100, x1: x100.subarray(0, 3072), labels };
}

const figure = (measure: Measure, kernels: string, ms: number[], perRun: number, note = "", threads = 1): Figure => {
  const m = median(ms);
  const latency = measure === "forward1";
  return {
    measure, name: NAMES[measure] + note, kernels, threads, runtime: `node ${process.version}`,
    median: latency ? m / perRun : (perRun * 1000) / m, unit: latency ? "ms" : "img/s", runs: ms.length,
  };
};

/**
 * Adam training steps at batch 100 as `edge-cnn train` makes them, on each of `threadCounts` threads
 * (one figure each); the counts take turns step by step.
 */
async function benchTraining(kernels: Kernels, threadCounts: number[], quick: boolean): Promise<Figure[]> {
  const { x100, labels } = setup(kernels);
  const runners = [];
  try {
    for (const threads of threadCounts) {
      runners.push(await startStepRunner({
        spec: seedCnn(10), batch: 100, smoothing: 0, optimizer: "adam", hyper: {}, key: new Rng(3).getState(), kernels, threads,
        makeNet: (k, storage) => { const net = new Network(seedCnn(10), { kernels: k, seed: 1, storage }); heInit(net.params, 1); return net; },
      }));
    }
    const steps = runners.map((runner) => {
      runner.x.set(x100);
      runner.labels.set(labels);
      let step = 0;
      return () => runner.step(100, ++step);
    });
    const ms: number[][] = steps.map(() => []), warmup = 2, runs = quick ? 3 : 9;
    for (let r = 0; r < warmup + runs; r++) {
      for (let i = 0; i < steps.length; i++) {
        const t = performance.now();
        await steps[i]();
        if (r >= warmup) ms[i].push(performance.now() - t);
      }
    }
    return threadCounts.map((threads, i) => figure("train100", kernels.name, ms[i], 100, "", threads));
  } finally {
    for (const runner of runners) await runner.close();
  }
}

async function benchOurs(kernels: Kernels, quick: boolean): Promise<Figure[]> {
  const { net: fresh, x100, x1 } = setup(kernels);
  const fwd100 = await time(() => fresh.forward(x100, 100), quick ? 3 : 9, 2);
  const fwd1 = await time(() => { for (let i = 0; i < 20; i++) fresh.forward(x1, 1); }, quick ? 5 : 15, 3);
  const figures = [
    figure("forward1", kernels.name, fwd1, 20),
    figure("forward100", kernels.name, fwd100, 100),
  ];
  if (kernels.freezeParams) {
    fresh.freeze();
    const frozen = await time(() => { for (let i = 0; i < 20; i++) fresh.forward(x1, 1); }, quick ? 5 : 15, 3);
    figures.push(figure("forward1", `${kernels.name}, frozen`, frozen, 20, ", frozen weights"));
  }
  return figures;
}

async function benchOnnx(quick: boolean): Promise<Figure[]> {
  ort.env.wasm.numThreads = 1;
  const { net, x100 } = setup(tsKernels); // the same weights as ours
  const session = await ort.InferenceSession.create(exportOnnx(net));
  const t100 = new ort.Tensor("float32", x100, [100, 3, 32, 32]);
  const t1 = new ort.Tensor("float32", x100.slice(0, 3072), [1, 3, 32, 32]);
  const fwd100 = await time(() => session.run({ input: t100 }), quick ? 3 : 9, 2);
  const fwd1 = await time(async () => { for (let i = 0; i < 20; i++) await session.run({ input: t1 }); }, quick ? 5 : 15, 3);
  await session.release();
  return [figure("forward1", "onnxruntime-web wasm", fwd1, 20), figure("forward100", "onnxruntime-web wasm", fwd100, 100)];
}

/** One-image forward inside workerd (frozen weights, as the Worker runs it); see bench-workerd.ts. */
async function benchWorkerd(quick: boolean): Promise<Figure[]> {
  const { msPerImage, kernels } = await benchWorkerdForward(quick ? 3 : 7);
  return [{
    measure: "forward1", name: `${NAMES.forward1}, frozen weights`, kernels: `${kernels}, frozen`, threads: 1,
    runtime: "workerd (Miniflare)", median: median(msPerImage), unit: "ms", runs: msPerImage.length,
  }];
}

/** Time per image of a figure, in ms. */
const msPerImage = (f: Figure): number => (f.unit === "ms" ? f.median : 1000 / f.median);

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const json = args.includes("--json"), quick = args.includes("--quick");
  const cores = os.availableParallelism();
  const figures = [
    ...(await benchTraining(tsKernels, [1], quick)),
    ...(await benchOurs(tsKernels, quick)),
    ...(await benchTraining(loadWasmKernels(), cores > 1 ? [1, cores] : [1], quick)),
    ...(await benchOurs(loadWasmKernels(), quick)),
    ...(await benchOnnx(quick)),
    ...(await benchWorkerd(quick)),
  ];
  for (const f of figures) {
    const theirs = figures.find((g) => g.measure === f.measure && g.kernels.startsWith("onnxruntime"));
    if (theirs && theirs !== f) f.vsOnnx = msPerImage(f) / msPerImage(theirs);
  }
  const machine = { cpus: os.cpus().length, cpu: os.cpus()[0]?.model ?? "?", node: process.version, date: new Date().toISOString() };
  if (json) {
    console.log(JSON.stringify({ machine, figures }, null, 2));
    return;
  }
  const rows = figures.map((f) => [
    f.name, f.runtime.split(" ")[0], f.kernels, String(f.threads),
    f.unit === "ms" ? `${f.median.toFixed(3)} ms` : `${Math.round(f.median).toLocaleString("en-US")} img/s`,
    String(f.runs),
    f.vsOnnx === undefined ? "" : f.vsOnnx.toFixed(2),
  ]);
  const head = ["seed-cnn, 10 classes", "runtime", "kernels", "threads", "median", "runs", "ours/ort time"];
  const w = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (r: string[]) => r.map((c, i) => (i >= 3 ? c.padStart(w[i]) : c.padEnd(w[i]))).join("  ");
  console.log(`${machine.cpus} x ${machine.cpu}, Node ${machine.node}`);
  console.log(line(head));
  console.log(w.map((n) => "-".repeat(n)).join("  "));
  for (const r of rows) console.log(line(r));
  console.log("ours/ort time: our time per image / onnxruntime-web's, same weights, same run (< 1: ours is faster)");
}

await main();
