// The ONNX export run in onnxruntime-web (an independent implementation) must agree with our forward
// pass within 1e-4 on the same weights and inputs. The comparison itself is shown to be sensitive:
// a one-weight change after export is caught.

import { createRequire } from "node:module";
import * as ort from "onnxruntime-web"; // in Node this resolves to dist/ort.node.min.mjs (wasm backend)
import { beforeAll, describe, expect, it } from "vitest";
import { heInit, initNetwork } from "../../shared/init.ts";
import { encodeModel, loadNetwork } from "../../shared/model-file.ts";
import { defaultPreprocess } from "../../shared/preprocess.ts";
import { softmax } from "../../shared/loss.ts";
import { Network } from "../../shared/network.ts";
import { Optimizer } from "../../shared/optimizer.ts";
import { Rng } from "../../shared/rng.ts";
import { airbench, seedCnn, type ArchSpec } from "../../shared/spec.ts";
import { makeStepBuffers, trainStep } from "../../shared/train-step.ts";
import { exportOnnx } from "../../trainer/onnx-export.ts";

const TOL = 1e-4;
const BATCH = 5;

beforeAll(() => {
  ort.env.wasm.numThreads = 1; // Node supports only the single-threaded wasm backend
});

function randomInput(net: Network, n: number, seed: number): Float32Array {
  const rng = new Rng(seed);
  return Float32Array.from({ length: n * net.inputSize }, () => rng.uniform());
}

/** Our probabilities and logits for x (copies, not the network's internal buffer). */
function ours(net: Network, x: Float32Array, n: number): { probs: Float32Array; logits: Float32Array } {
  const logits = net.forward(x, n).slice();
  const probs = new Float32Array(logits.length);
  softmax(logits, probs, n, net.classes);
  return { probs, logits };
}

async function runOnnx(bytes: Uint8Array, net: Network, x: Float32Array, n: number) {
  const session = await ort.InferenceSession.create(bytes);
  try {
    const input = new ort.Tensor("float32", x, [n, ...net.spec.input]);
    const out = await session.run({ input });
    return {
      probs: out.probabilities.data as Float32Array,
      logits: out.logits.data as Float32Array,
      probsDims: out.probabilities.dims,
    };
  } finally {
    await session.release();
  }
}

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

/** Exports net, runs both implementations on the same random batch, returns the max abs differences. */
async function compare(title: string, net: Network, seed = 7): Promise<{ probs: number; logits: number }> {
  const x = randomInput(net, BATCH, seed);
  const onnx = await runOnnx(exportOnnx(net), net, x, BATCH);
  const mine = ours(net, x, BATCH);
  expect(onnx.probsDims).toEqual([BATCH, net.classes]);
  const diff = { probs: maxAbsDiff(onnx.probs, mine.probs), logits: maxAbsDiff(onnx.logits, mine.logits) };
  console.log(`[onnx parity] ${title}: max |probabilities diff| = ${diff.probs.toExponential(3)}, max |logits diff| = ${diff.logits.toExponential(3)}`);
  return diff;
}

function heNet(spec: ArchSpec, seed: number): Network {
  const net = new Network(spec);
  heInit(net.params, seed);
  return net;
}

// Odd shapes: 13x11 single-channel input, 5x5 conv stride 2 pad 2 (-> 7x6), overlapping 3x3 stride-2
// pool that drops a partial window (-> 3x2), dropout, two affine layers, 3 classes.
const oddSpec: ArchSpec = {
  name: "odd",
  input: [1, 13, 11],
  layers: [
    { type: "conv", filters: 4, size: 5, stride: 2, pad: 2 }, { type: "relu" },
    { type: "pool", size: 3, stride: 2 }, { type: "dropout", ratio: 0.3 },
    { type: "affine", units: 7 }, { type: "relu" },
    { type: "affine", units: 3 },
  ],
};

describe("ONNX export agrees with our forward pass (onnxruntime-web, wasm)", () => {
  it("(a) seed-cnn, 10 classes, He init", async () => {
    const diff = await compare("seed-cnn He init", heNet(seedCnn(10), 1));
    expect(diff.probs).toBeLessThan(TOL);
  });

  it("(b) seed-cnn after 30 Adam steps", async () => {
    const net = heNet(seedCnn(10), 2);
    const n = 8;
    const x = randomInput(net, n, 3);
    const labels = Array.from({ length: n }, (_, i) => i % net.classes);
    const opt = new Optimizer("adam", net.params);
    const buffers = makeStepBuffers(net, n);
    const first = trainStep(net, opt, x, labels, n, buffers, 1).loss;
    let last = first;
    for (let step = 2; step <= 30; step++) last = trainStep(net, opt, x, labels, n, buffers, step).loss;
    expect(last).toBeLessThan(first); // the weights really moved
    const diff = await compare(`seed-cnn after 30 Adam steps (loss ${first.toFixed(3)} -> ${last.toFixed(3)})`, net);
    expect(diff.probs).toBeLessThan(TOL);
  });

  it("(c) odd shapes: 1x13x11 input, conv 5 stride 2 pad 2, pool 3 stride 2, two affine layers, 3 classes", async () => {
    const diff = await compare("odd shapes", heNet(oddSpec, 4));
    expect(diff.probs).toBeLessThan(TOL);
  });

  it("(d) a conv and a pool after an affine layer (Reshape back to NCHW)", async () => {
    const spec: ArchSpec = {
      name: "affine-then-conv",
      input: [2, 5, 5],
      layers: [
        { type: "conv", filters: 3, size: 3 }, { type: "relu" },
        { type: "affine", units: 6 },
        { type: "conv", filters: 4, size: 1 }, { type: "relu" }, { type: "pool", size: 1 },
        { type: "affine", units: 3 },
      ],
    };
    const diff = await compare("affine -> conv", heNet(spec, 5));
    expect(diff.probs).toBeLessThan(TOL);
  });

  it("(e) airbench (batchnorm, GELU, global max pool, bias-free classifier, logit scale) after training steps", async () => {
    const net = new Network(airbench(10));
    initNetwork(net, 3);
    const n = 16, x = randomInput(net, n, 4);
    const labels = Array.from({ length: n }, (_, i) => i % 10);
    const opt = new Optimizer("nesterov", net.params, { lr: 0.05, momentum: 0.85, groupLr: { norm: 8 } });
    const buffers = makeStepBuffers(net, n);
    for (let step = 1; step <= 5; step++) trainStep(net, opt, x, labels, n, buffers, step, 0.2);
    net.calibrateBatchnorm((forward) => forward(x, n));
    // The unfolded network in eval mode (running statistics) against the folded ONNX graph.
    const diff = await compare("airbench after 5 Nesterov steps", net);
    expect(diff.probs).toBeLessThan(TOL);
    expect(diff.logits).toBeLessThan(TOL);
    // And the folded network that loadNetwork builds (what the Worker runs) against the same graph.
    const meta = { name: "a", version: "1", labels: Array.from({ length: 10 }, (_, i) => `c${i}`), preprocess: defaultPreprocess(), metrics: {}, provenance: {} };
    const folded = loadNetwork(encodeModel(net, meta)).net;
    const xi = randomInput(net, BATCH, 9);
    const onnx = await runOnnx(exportOnnx(net), net, xi, BATCH);
    expect(maxAbsDiff(onnx.logits, ours(folded, xi, BATCH).logits)).toBeLessThan(TOL);
  });

  it("(f) airbench at 64x64 input (the global pool makes the body size-agnostic)", async () => {
    const net = new Network(airbench(3, 64));
    initNetwork(net, 5);
    const diff = await compare("airbench 64x64", net);
    expect(diff.probs).toBeLessThan(TOL);
  });

  it("is sensitive: one weight changed in our net after export is caught", async () => {
    const net = heNet(seedCnn(10), 1);
    const bytes = exportOnnx(net);
    const x = randomInput(net, BATCH, 7);
    net.param("affine2.weight").data[0] += 0.01; // class 0's weight from the first hidden unit
    const onnx = await runOnnx(bytes, net, x, BATCH);
    const diff = maxAbsDiff(onnx.probs, ours(net, x, BATCH).probs);
    console.log(`[onnx parity] one weight +0.01 after export: max |probabilities diff| = ${diff.toExponential(3)}`);
    expect(diff).toBeGreaterThan(TOL);
  });

  it("is sensitive: a net whose affine weights are transposed in place (same shape) is caught", async () => {
    // A square affine layer, so a transposed weight matrix still loads: the wrong-layout bug would
    // run silently, and only the numbers show it.
    const spec: ArchSpec = { name: "square", input: [4, 1, 1], layers: [{ type: "affine", units: 4 }, { type: "relu" }, { type: "affine", units: 4 }] };
    const net = heNet(spec, 6);
    const bytes = exportOnnx(net);
    const w = net.param("affine1.weight").data;
    const t = w.slice();
    for (let r = 0; r < 4; r++) for (let c = 0; c < 4; c++) w[r * 4 + c] = t[c * 4 + r];
    const x = randomInput(net, BATCH, 8);
    const onnx = await runOnnx(bytes, net, x, BATCH);
    const diff = maxAbsDiff(onnx.probs, ours(net, x, BATCH).probs);
    console.log(`[onnx parity] transposed affine weights: max |probabilities diff| = ${diff.toExponential(3)}`);
    expect(diff).toBeGreaterThan(TOL);
  });
});

describe("ONNX model structure", () => {
  it("declares a symbolic batch dim and both outputs", async () => {
    const session = await ort.InferenceSession.create(exportOnnx(heNet(seedCnn(4), 1)));
    try {
      expect(session.inputNames).toEqual(["input"]);
      expect(session.outputNames).toEqual(["probabilities", "logits"]);
      const meta = session.inputMetadata[0];
      expect(meta.isTensor && meta.shape).toEqual(["N", 3, 32, 32]);
    } finally {
      await session.release();
    }
  });

  it("decodes with onnx.proto's own decoder: versions, nodes, initializers, labels", () => {
    // onnxruntime-web ships a protobufjs decoder generated from onnx.proto: a second, independent
    // reader of our hand-written encoding.
    const require = createRequire(import.meta.url);
    const { onnx } = require("../../node_modules/onnxruntime-web/lib/onnxjs/ort-schema/protobuf/onnx.js");
    const net = heNet(seedCnn(3), 1);
    const labels = ["cat", "dog", "ünïcödé"];
    const model = onnx.ModelProto.decode(exportOnnx(net, { labels, name: "pets" }));
    expect(Number(model.irVersion)).toBe(8);
    expect(model.opsetImport.map((o: { version: unknown }) => Number(o.version))).toEqual([13]);
    expect(model.graph.name).toBe("pets");
    const ops = model.graph.node.map((n: { opType: string }) => n.opType);
    expect(ops).toEqual([
      "Conv", "Relu", "MaxPool", "Conv", "Relu", "MaxPool", "Conv", "Relu", "MaxPool", "Conv", "Relu", "MaxPool",
      "Flatten", "Gemm", "Relu", "Gemm", "Softmax",
    ]);
    expect(model.graph.initializer.map((t: { name: string }) => t.name)).toEqual(net.params.map((p) => p.name));
    const props = Object.fromEntries(model.metadataProps.map((e: { key: string; value: string }) => [e.key, e.value]));
    expect(JSON.parse(props.labels)).toEqual(labels);
    expect(JSON.parse(props.architecture)).toEqual(net.spec);
  });

  it("rejects labels that do not match the number of classes", () => {
    expect(() => exportOnnx(heNet(seedCnn(3), 1), { labels: ["a", "b"] })).toThrow(/2 labels for a network with 3 classes/);
  });
});
