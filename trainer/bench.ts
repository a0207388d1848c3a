// `npm run bench [-- --json] [-- --quick] [-- --arch NAME]`: the project's speed benchmark on each
// architecture (seed-cnn and airbench, 10 classes); every figure names its `arch` and that
// architecture's forward multiply-adds per image (`macs`, from the spec).
// Each figure is the median of repeated timed runs after a warm-up. onnxruntime-web (wasm, 1 thread)
// runs the very same weights in the same process as the reference, so the ratios stay meaningful on a
// noisy machine; the ratio column is ours / theirs in time per image (< 1: ours is faster).
//
// Rows: training at batch 100 on 1 thread, forward latency for one image, forward throughput at
// batch 100, for each kernel implementation (the TS reference and Wasm SIMD), plus the one-image
// forward with frozen weights (Network.freeze(): what the Worker does), and Wasm SIMD training on all
// cores (worker threads, as `edge-cnn train --threads N` runs it). The 1-thread and all-cores training
// steps alternate, so both see the same machine load. Workerd figures will be further rows with their
// own `runtime` field. For airbench: training on all cores at the recipe's batch (1024, Nesterov SGD),
// the frozen 1-image forward, onnxruntime-web on the same weights, and, where Debian's python3-torch
// is installed, PyTorch on the same net (../shared/peers/airbench93_torch.py) in the same run.

import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";

import os from "node:os";
import * as ort from "onnxruntime-web";
import { airbench, initNetwork, Network, Rng, seedCnn, specMacs, tsKernels, type ArchSpec, type Kernels, type OptimizerKind } from "../shared/index.ts";
import { loadWasmKernels } from "./kernels-node.ts";
import { benchWorkerdForward } from "./bench-workerd.ts";
import { exportOnnx } from "./onnx-export.ts";
import { inferenceNetwork } from "../shared/fold-batchnorm.ts";
import { startStepRunner } from "./training/step-runner.ts";

type Measure = "train100" | "train1024" | "forward1" | "forward100";

interface Figure {
  measure: Measure;
  arch: string;
  /** Forward multiply-adds per image of `arch` (convolutions and affine layers). */
  macs: number;
  /** Training: multiply-adds per second (3 x forward per image: forward, input and weight gradients). */
  macsPerSecond?: number;
  name: string;
  kernels: string; // implementation that produced the figure
  threads: number;
  runtime: string;
  median: number;
  unit: "img/s" | "ms";
  runs: number;
  /** Ours / onnxruntime-web, time per image (forward figures only; < 1 means ours is faster). */
  vsOnnx?: number;
  /** Ours / PyTorch in the same run: time per image for latency, throughput for training (> 1: ours trains faster). */
  vsTorch?: number;
}

const NAMES: Record<Measure, string> = {
  train100: "train, batch 100",
  train1024: "train, batch 1024",
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

/** An architecture under test: its spec, and how its recipe trains it. */
interface Arch { spec: ArchSpec; batch: number; optimizer: OptimizerKind; smoothing: number; groupLr?: Record<string, number> }

const ARCHS: Record<string, Arch> = {
  "seed-cnn": { spec: seedCnn(10), batch: 100, optimizer: "adam", smoothing: 0 },
  airbench: { spec: airbench(10), batch: 1024, optimizer: "nesterov", smoothing: 0.2, groupLr: { norm: 64 } },
};

/** The benchmark's network (10 classes, initialised from seed 1 as training does) and inputs (seed 2). */
function setup(arch: Arch, kernels: Kernels, batch = 100) {
  const net = new Network(arch.spec, { kernels, seed: 1 });
  initNetwork(net, 1);
  const rng = new Rng(2);
  const x = new Float32Array(batch * net.inputSize).map(() => rng.uniform());
  const labels = new Int32Array(batch).map(() => rng.int(10));
  return { net, x, x100: x.subarray(0, 100 * net.inputSize), x1: x.subarray(0, net.inputSize), labels };
}

const figure = (arch: Arch, measure: Measure, kernels: string, ms: number[], perRun: number, note = "", threads = 1): Figure => {
  const m = median(ms);
  const latency = measure === "forward1";
  const macs = specMacs(arch.spec);
  const f: Figure = {
    measure, arch: arch.spec.name, macs, name: NAMES[measure] + note, kernels, threads, runtime: `node ${process.version}`,
    median: latency ? m / perRun : (perRun * 1000) / m, unit: latency ? "ms" : "img/s", runs: ms.length,
  };
  if (measure.startsWith("train")) f.macsPerSecond = f.median * macs * 3;
  return f;
};

/**
 * Adam training steps at batch 100 as `edge-cnn train` makes them, on each of `threadCounts` threads
 * (one figure each); the counts take turns step by step.
 */
async function benchTraining(arch: Arch, kernels: Kernels, threadCounts: number[], quick: boolean): Promise<Figure[]> {
  const B = arch.batch;
  const { x, labels } = setup(arch, kernels, B);
  const runners = [];
  try {
    for (const threads of threadCounts) {
      runners.push(await startStepRunner({
        spec: arch.spec, batch: B, smoothing: arch.smoothing, optimizer: arch.optimizer,
        hyper: arch.optimizer === "nesterov" ? { lr: 0.01, momentum: 0.85, groupLr: arch.groupLr } : {}, key: new Rng(3).getState(), kernels, threads,
        makeNet: (k, storage) => { const net = new Network(arch.spec, { kernels: k, seed: 1, storage }); initNetwork(net, 1); return net; },
      }));
    }
    const steps = runners.map((runner) => {
      runner.x.set(x);
      runner.labels.set(labels);
      let step = 0;
      return () => runner.step(B, ++step);
    });
    const big = B > 100;
    const ms: number[][] = steps.map(() => []), warmup = big ? 1 : 2, runs = quick ? (big ? 2 : 3) : big ? 5 : 9;
    for (let r = 0; r < warmup + runs; r++) {
      for (let i = 0; i < steps.length; i++) {
        const t = performance.now();
        await steps[i]();
        if (r >= warmup) ms[i].push(performance.now() - t);
      }
    }
    return threadCounts.map((threads, i) => figure(arch, big ? "train1024" : "train100", kernels.name, ms[i], B, "", threads));
  } finally {
    for (const runner of runners) await runner.close();
  }
}

/**
 * Inference as the Worker runs it: a network with batchnorm in its folded form (plain convolutions,
 * what loadNetwork builds), the same weights as `net`.
 */
function inferenceNet(arch: Arch, kernels: Kernels): { net: Network; x100: Float32Array; x1: Float32Array } {
  const { net, x100, x1 } = setup(arch, kernels);
  return { net: inferenceNetwork(net, { kernels }), x100, x1 };
}

async function benchOurs(arch: Arch, kernels: Kernels, quick: boolean): Promise<Figure[]> {
  const { net: fresh, x100, x1 } = inferenceNet(arch, kernels);
  const heavy = specMacs(arch.spec) > 2e7, reps = heavy ? 5 : 20;
  const fwd100 = await time(() => fresh.forward(x100, 100), quick ? 2 : heavy ? 5 : 9, 1);
  const fwd1 = await time(() => { for (let i = 0; i < reps; i++) fresh.forward(x1, 1); }, quick ? 5 : 15, 3);
  const figures = [
    figure(arch, "forward1", kernels.name, fwd1, reps),
    figure(arch, "forward100", kernels.name, fwd100, 100),
  ];
  if (kernels.freezeParams) {
    fresh.freeze();
    const frozen = await time(() => { for (let i = 0; i < reps; i++) fresh.forward(x1, 1); }, quick ? 5 : 15, 3);
    figures.push(figure(arch, "forward1", `${kernels.name}, frozen`, frozen, reps, ", frozen weights"));
  }
  return figures;
}

async function benchOnnx(arch: Arch, quick: boolean): Promise<Figure[]> {
  ort.env.wasm.numThreads = 1;
  const { net, x100, x1 } = setup(arch, tsKernels); // the same weights as ours (exportOnnx folds batchnorm)
  const session = await ort.InferenceSession.create(exportOnnx(net));
  const t100 = new ort.Tensor("float32", x100, [100, ...arch.spec.input]);
  const t1 = new ort.Tensor("float32", x1.slice(), [1, ...arch.spec.input]);
  const heavy = specMacs(arch.spec) > 2e7, reps = heavy ? 5 : 20;
  const fwd100 = await time(() => session.run({ input: t100 }), quick ? 2 : heavy ? 5 : 9, 1);
  const fwd1 = await time(async () => { for (let i = 0; i < reps; i++) await session.run({ input: t1 }); }, quick ? 5 : 15, 3);
  await session.release();
  return [figure(arch, "forward1", "onnxruntime-web wasm", fwd1, reps), figure(arch, "forward100", "onnxruntime-web wasm", fwd100, 100)];
}

/** PyTorch (Debian's python3-torch) on airbench's net, in this run: training at batch 1024 and the 1-image forward. */
function benchTorch(arch: Arch, threads: number, quick: boolean): Figure[] {
  const script = new URL("../../shared/peers/airbench93_torch.py", import.meta.url).pathname;
  if (arch.spec.name !== "airbench" || !existsSync(script) || !existsSync("/usr/bin/python3")) return [];
  const openblas = "/tmp/openblas/usr/lib/x86_64-linux-gnu/openblas-pthread";
  let out: { train_img_s: number; forward1_ms_median: number; torch: string };
  try {
    out = JSON.parse(execFileSync("/usr/bin/python3", [script, "--threads", String(threads), "--batch", "1024", "--steps", quick ? "2" : "4"], {
      encoding: "utf8", stdio: ["ignore", "pipe", "ignore"],
      env: { ...process.env, OMP_WAIT_POLICY: "PASSIVE", ...(existsSync(openblas) ? { LD_LIBRARY_PATH: openblas } : {}) },
    }));
  } catch {
    return []; // no torch here: the table says so by its absence
  }
  const macs = specMacs(arch.spec), runtime = `python ${out.torch}`;
  return [
    { measure: "train1024", arch: arch.spec.name, macs, name: NAMES.train1024, kernels: "pytorch", threads, runtime, median: out.train_img_s, unit: "img/s", runs: quick ? 2 : 4, macsPerSecond: out.train_img_s * macs * 3 },
    { measure: "forward1", arch: arch.spec.name, macs, name: NAMES.forward1, kernels: "pytorch", threads: 1, runtime, median: out.forward1_ms_median, unit: "ms", runs: 50 },
  ];
}

/** One-image forward inside workerd (frozen weights, as the Worker runs it); see bench-workerd.ts. */
async function benchWorkerd(arch: Arch, quick: boolean): Promise<Figure[]> {
  const { msPerImage, kernels } = await benchWorkerdForward(arch.spec.name, quick ? 3 : 7);
  return [{
    measure: "forward1", arch: arch.spec.name, macs: specMacs(arch.spec), name: `${NAMES.forward1}, frozen weights`, kernels: `${kernels}, frozen`, threads: 1,
    runtime: "workerd (Miniflare)", median: median(msPerImage), unit: "ms", runs: msPerImage.length,
  }];
}

/** Time per image of a figure, in ms. */
const msPerImage = (f: Figure): number => (f.unit === "ms" ? f.median : 1000 / f.median);

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const json = args.includes("--json"), quick = args.includes("--quick");
  const cores = os.availableParallelism();
  const archIndex = args.indexOf("--arch");
  const names = archIndex >= 0 ? [args[archIndex + 1]] : Object.keys(ARCHS);
  for (const n of names) if (!ARCHS[n]) throw new Error(`unknown --arch ${n} (expected ${Object.keys(ARCHS).join(" or ")})`);
  const figures: Figure[] = [];
  for (const name of names) {
    const arch = ARCHS[name];
    if (name === "seed-cnn") {
      figures.push(...await benchTraining(arch, tsKernels, [1], quick), ...await benchOurs(arch, tsKernels, quick));
      figures.push(...await benchTraining(arch, loadWasmKernels(), cores > 1 ? [1, cores] : [1], quick));
    } else {
      // PyTorch first, then ours, so a change in the machine's load shows as a gap between them.
      figures.push(...benchTorch(arch, cores, quick));
      figures.push(...await benchTraining(arch, loadWasmKernels(), [cores], quick));
    }
    figures.push(...await benchOurs(arch, loadWasmKernels(), quick), ...await benchOnnx(arch, quick), ...await benchWorkerd(arch, quick));
  }
  for (const f of figures) {
    const theirs = figures.find((g) => g.arch === f.arch && g.measure === f.measure && g.kernels.startsWith("onnxruntime"));
    if (theirs && theirs !== f) f.vsOnnx = msPerImage(f) / msPerImage(theirs);
    const torch = figures.find((g) => g.arch === f.arch && g.measure === f.measure && g.kernels === "pytorch");
    if (torch && torch !== f) f.vsTorch = f.unit === "ms" ? msPerImage(f) / msPerImage(torch) : f.median / torch.median;
  }
  const machine = { cpus: os.cpus().length, cpu: os.cpus()[0]?.model ?? "?", node: process.version, date: new Date().toISOString() };
  if (json) {
    console.log(JSON.stringify({ machine, figures }, null, 2));
    return;
  }
  const rows = figures.map((f) => [
    `${f.arch}: ${f.name}`, f.runtime.split(" ")[0], f.kernels, String(f.threads),
    f.unit === "ms" ? `${f.median.toFixed(3)} ms` : `${Math.round(f.median).toLocaleString("en-US")} img/s`,
    f.macsPerSecond ? `${(f.macsPerSecond / 1e9).toFixed(1)} GMAC/s` : "",
    String(f.runs),
    f.vsOnnx === undefined ? "" : f.vsOnnx.toFixed(2),
    f.vsTorch === undefined ? "" : f.vsTorch.toFixed(2),
  ]);
  const head = ["10 classes", "runtime", "kernels", "threads", "median", "training MACs", "runs", "ours/ort time", "ours/torch"];
  const w = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (r: string[]) => r.map((c, i) => (i >= 3 ? c.padStart(w[i]) : c.padEnd(w[i]))).join("  ");
  console.log(`${machine.cpus} x ${machine.cpu}, Node ${machine.node}`);
  console.log(line(head));
  console.log(w.map((n) => "-".repeat(n)).join("  "));
  for (const r of rows) console.log(line(r));
  console.log(`MACs per image: ${names.map((n) => `${n} ${(specMacs(ARCHS[n].spec) / 1e6).toFixed(1)} M`).join(", ")}`);
  console.log("ours/ort time: our time per image / onnxruntime-web's, same weights, same run (< 1: ours is faster)");
  console.log("ours/torch: training img/s ours / PyTorch's (> 1: ours faster), forward time ours / PyTorch's (< 1: ours faster), same run");
}

await main();
