// `npm run bench [-- --json] [-- --quick]`: the project's speed benchmark on seed-cnn with 10 classes.
// Each figure is the median of repeated timed runs after a warm-up. onnxruntime-web (wasm, 1 thread)
// runs the very same weights in the same process as the reference, so the ratios stay meaningful on a
// noisy machine; the ratio column is ours / theirs in time per image (< 1: ours is faster).
//
// Rows: training at batch 100 on 1 thread, forward latency for one image, forward throughput at
// batch 100, for each kernel implementation (the TS reference and Wasm SIMD), plus the one-image
// forward with frozen weights (Network.freeze(): what the Worker does). Threads and workerd figures
// will be further rows with their own `kernels` / `threads` / `runtime` fields.

import os from "node:os";
import * as ort from "onnxruntime-web";
import { heInit, makeStepBuffers, Network, Optimizer, Rng, seedCnn, trainStep, tsKernels, type Kernels } from "../shared/index.ts";
import { loadWasmKernels } from "./kernels-node.ts";
import { exportOnnx } from "./onnx-export.ts";

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

const figure = (measure: Measure, kernels: string, ms: number[], perRun: number, note = ""): Figure => {
  const m = median(ms);
  const latency = measure === "forward1";
  return {
    measure, name: NAMES[measure] + note, kernels, threads: 1, runtime: `node ${process.version}`,
    median: latency ? m / perRun : (perRun * 1000) / m, unit: latency ? "ms" : "img/s", runs: ms.length,
  };
};

async function benchOurs(kernels: Kernels, quick: boolean): Promise<Figure[]> {
  const { net, x100, x1, labels } = setup(kernels);
  const opt = new Optimizer("adam", net.params);
  const buffers = makeStepBuffers(net, 100);
  let step = 0;
  const train = await time(() => trainStep(net, opt, x100, labels, 100, buffers, ++step), quick ? 3 : 7, 2);
  // Forward figures on the initial weights (a fresh network: the training steps above changed them).
  const fresh = setup(kernels).net;
  const fwd100 = await time(() => fresh.forward(x100, 100), quick ? 3 : 9, 2);
  const fwd1 = await time(() => { for (let i = 0; i < 20; i++) fresh.forward(x1, 1); }, quick ? 5 : 15, 3);
  const figures = [
    figure("train100", kernels.name, train, 100),
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

/** Time per image of a figure, in ms. */
const msPerImage = (f: Figure): number => (f.unit === "ms" ? f.median : 1000 / f.median);

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const json = args.includes("--json"), quick = args.includes("--quick");
  const figures = [
    ...(await benchOurs(tsKernels, quick)),
    ...(await benchOurs(loadWasmKernels(), quick)),
    ...(await benchOnnx(quick)),
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
    f.name, f.kernels,
    f.unit === "ms" ? `${f.median.toFixed(3)} ms` : `${Math.round(f.median).toLocaleString("en-US")} img/s`,
    String(f.runs),
    f.vsOnnx === undefined ? "" : f.vsOnnx.toFixed(2),
  ]);
  const head = ["seed-cnn, 10 classes, 1 thread", "kernels", "median", "runs", "ours/ort time"];
  const w = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (r: string[]) => r.map((c, i) => (i >= 2 ? c.padStart(w[i]) : c.padEnd(w[i]))).join("  ");
  console.log(`${machine.cpus} x ${machine.cpu}, Node ${machine.node}`);
  console.log(line(head));
  console.log(w.map((n) => "-".repeat(n)).join("  "));
  for (const r of rows) console.log(line(r));
  console.log("ours/ort time: our time per image / onnxruntime-web's, same weights, same run (< 1: ours is faster)");
}

await main();
