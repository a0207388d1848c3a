// `npm run bench [-- --json] [-- --quick]`: the project's speed benchmark on seed-cnn with 10 classes.
// Each figure is the median of repeated timed runs after a warm-up, and onnxruntime-web (wasm,
// 1 thread) runs the same weights in the same process as the reference, so ratios stay meaningful on
// a noisy machine.

import os from "node:os";
import * as ort from "onnxruntime-web";
import { heInit, makeStepBuffers, Network, Optimizer, Rng, seedCnn, trainStep, tsKernels, type Kernels } from "../shared/index.ts";
import { exportOnnx } from "./onnx-export.ts";

interface Figure {
  name: string;
  kernels: string;
  median: number;
  unit: string;
  runs: number;
  note?: string;
}

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

async function benchOurs(kernels: Kernels, quick: boolean): Promise<Figure[]> {
  const net = new Network(seedCnn(10), { kernels, seed: 1 });
  heInit(net.params, 1);
  const rng = new Rng(2);
  const x100 = new Float32Array(100 * 3072).map(() => rng.uniform());
  const labels = new Int32Array(100).map(() => rng.int(10));
  const x1 = x100.subarray(0, 3072);
  const opt = new Optimizer("adam", net.params);
  const buffers = makeStepBuffers(net, 100);
  let step = 0;
  const train = await time(() => trainStep(net, opt, x100, labels, 100, buffers, ++step), quick ? 3 : 7, 2);
  const fwd100 = await time(() => net.forward(x100, 100), quick ? 3 : 9, 2);
  const fwd1 = await time(() => { for (let i = 0; i < 20; i++) net.forward(x1, 1); }, quick ? 5 : 15, 3);
  return [
    { name: "train, batch 100, 1 thread", kernels: kernels.name, median: 100_000 / median(train), unit: "img/s", runs: train.length },
    { name: "forward, 1 image", kernels: kernels.name, median: median(fwd1) / 20, unit: "ms", runs: fwd1.length },
    { name: "forward, batch 100", kernels: kernels.name, median: 100_000 / median(fwd100), unit: "img/s", runs: fwd100.length },
  ];
}

async function benchOnnx(quick: boolean): Promise<Figure[]> {
  ort.env.wasm.numThreads = 1;
  const net = new Network(seedCnn(10));
  heInit(net.params, 1);
  const session = await ort.InferenceSession.create(exportOnnx(net));
  const rng = new Rng(2);
  const x100 = new ort.Tensor("float32", new Float32Array(100 * 3072).map(() => rng.uniform()), [100, 3, 32, 32]);
  const x1 = new ort.Tensor("float32", (x100.data as Float32Array).slice(0, 3072), [1, 3, 32, 32]);
  const fwd100 = await time(() => session.run({ input: x100 }), quick ? 3 : 9, 2);
  const fwd1 = await time(async () => { for (let i = 0; i < 20; i++) await session.run({ input: x1 }); }, quick ? 5 : 15, 3);
  await session.release();
  return [
    { name: "forward, 1 image", kernels: "onnxruntime-web wasm", median: median(fwd1) / 20, unit: "ms", runs: fwd1.length },
    { name: "forward, batch 100", kernels: "onnxruntime-web wasm", median: 100_000 / median(fwd100), unit: "img/s", runs: fwd100.length },
  ];
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const json = args.includes("--json"), quick = args.includes("--quick");
  const figures = [...(await benchOurs(tsKernels, quick)), ...(await benchOnnx(quick))];
  const ours1 = figures.find((f) => f.name === "forward, 1 image" && f.kernels === "ts")!;
  const ort1 = figures.find((f) => f.name === "forward, 1 image" && f.kernels.startsWith("onnx"))!;
  const ours100 = figures.find((f) => f.name === "forward, batch 100" && f.kernels === "ts")!;
  const ort100 = figures.find((f) => f.name === "forward, batch 100" && f.kernels.startsWith("onnx"))!;
  const ratios = {
    forward1_ours_over_ort_time: ours1.median / ort1.median,
    forward100_ours_over_ort_throughput: ours100.median / ort100.median,
  };
  const machine = { cpus: os.cpus().length, cpu: os.cpus()[0]?.model ?? "?", node: process.version, date: new Date().toISOString() };
  if (json) {
    console.log(JSON.stringify({ machine, figures, ratios }, null, 2));
    return;
  }
  const rows = figures.map((f) => [f.name, f.kernels, f.unit === "ms" ? `${f.median.toFixed(3)} ms` : `${Math.round(f.median).toLocaleString("en-US")} img/s`, String(f.runs)]);
  const head = ["measure (seed-cnn, 10 classes)", "implementation", "median", "runs"];
  const w = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (r: string[]) => r.map((c, i) => (i === 2 ? c.padStart(w[i]) : c.padEnd(w[i]))).join("  ");
  console.log(`${machine.cpus} x ${machine.cpu}, Node ${machine.node}`);
  console.log(line(head));
  console.log(w.map((n) => "-".repeat(n)).join("  "));
  for (const r of rows) console.log(line(r));
  console.log(`ratio, forward 1 image, ours/onnxruntime-web time: ${ratios.forward1_ours_over_ort_time.toFixed(2)} (< 1 means ours is faster)`);
  console.log(`ratio, forward batch 100, ours/onnxruntime-web throughput: ${ratios.forward100_ours_over_ort_throughput.toFixed(2)} (> 1 means ours is faster)`);
}

await main();
