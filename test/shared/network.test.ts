import { describe, expect, it } from "vitest";
import {
  DivergenceError, heInit, makeStepBuffers, Network, Optimizer, resolveSpec, Rng, seedCnn, softmax,
  slotsPerParam, softmaxCrossEntropy, SpecError, trainStep, tsKernels, type ArchSpec,
} from "../../shared/index.ts";
import { ConvLayer } from "../../shared/layers/conv.ts";
import { checkNetwork, randomBatch } from "./gradcheck.ts";
import { IMPLEMENTATIONS } from "./implementations.ts";

describe("architecture spec", () => {
  it("seed-cnn has exactly the layers and 633,002 parameters of the original design (10 classes)", () => {
    const net = new Network(seedCnn(10));
    expect(net.parameterCount).toBe(633_002);
    expect(net.layers.map((l) => l.name)).toEqual([
      "conv1", "relu1", "pool1", "conv2", "relu2", "pool2", "conv3", "relu3", "dropout1", "pool3",
      "conv4", "relu4", "dropout2", "pool4", "affine1", "relu5", "dropout3", "affine2",
    ]);
    expect(net.layers.find((l) => l.name === "affine1")!.inShape).toEqual([128, 2, 2]);
    expect(new Network(seedCnn(4)).classes).toBe(4);
  });

  it("is plain data that survives JSON", () => {
    const spec = seedCnn(3);
    expect(JSON.parse(JSON.stringify(spec))).toEqual(spec);
  });

  const bad: Array<[string, ArchSpec, RegExp]> = [
    ["a pool that would shrink below 1x1", { name: "t", input: [3, 4, 4], layers: [{ type: "pool", size: 2 }, { type: "pool", size: 2 }, { type: "pool", size: 2 }, { type: "affine", units: 2 }] }, /layer pool3: a 2x2 pool would shrink the image below 1x1 \(input 3x1x1\)/],
    ["a kernel larger than the padded image", { name: "t", input: [1, 3, 3], layers: [{ type: "conv", filters: 2, size: 5 }, { type: "affine", units: 2 }] }, /layer conv1: a 5x5 kernel with pad 0 does not fit/],
    ["zero filters", { name: "t", input: [1, 8, 8], layers: [{ type: "conv", filters: 0, size: 3 }, { type: "affine", units: 2 }] }, /layer conv1: filters must be a positive integer, got 0/],
    ["dropout ratio 1", { name: "t", input: [1, 8, 8], layers: [{ type: "dropout", ratio: 1 }, { type: "affine", units: 2 }] }, /layer dropout1: ratio must be in \[0, 1\), got 1/],
    ["an unknown layer type", { name: "t", input: [1, 8, 8], layers: [{ type: "layernorm" } as never, { type: "affine", units: 2 }] }, /layer 1 has unknown type "layernorm"/],
    ["not ending in an affine layer", { name: "t", input: [1, 8, 8], layers: [{ type: "affine", units: 2 }, { type: "relu" }] }, /the last layer must be affine .* got relu1/],
    ["a one-class output", { name: "t", input: [1, 8, 8], layers: [{ type: "affine", units: 1 }] }, /layer affine1: a classifier needs at least 2 classes/],
    ["a bad input shape", { name: "t", input: [3, 0, 32] as never, layers: [{ type: "affine", units: 2 }] }, /input shape must be \[channels, height, width\]/],
  ];
  for (const [what, spec, message] of bad) {
    it(`rejects ${what}, naming the layer`, () => {
      expect(() => resolveSpec(spec)).toThrow(SpecError);
      expect(() => new Network(spec)).toThrow(message);
    });
  }
});

describe("whole-network gradient check", () => {
  for (const kernels of IMPLEMENTATIONS) {
    it(`seed-cnn (dropout on) matches central differences for every parameter tensor, ${kernels.name} kernels`, () => {
      const net = new Network(seedCnn(10), { seed: 3, kernels });
      heInit(net.params, 11);
      for (const r of checkNetwork(net, 2, 5)) expect(r.relError, `${r.name}: ${r.relError}`).toBeLessThan(5e-2);
    });
  }

  it("fails when one layer's backward is wrong (conv2 input gradient dropped)", () => {
    const net = new Network(seedCnn(10), { seed: 3 });
    heInit(net.params, 11);
    const conv2 = net.layers[3] as ConvLayer;
    conv2.backward = function (x, y, dy, dx, n, k) {
      ConvLayer.prototype.backward.call(this, x, y, dy, dx, n, k);
      dx?.fill(0); // breaks every gradient upstream of conv2
    };
    const reports = checkNetwork(net, 2, 5);
    expect(reports.find((r) => r.name === "conv1.weight")!.relError).toBeGreaterThan(0.5);
    expect(reports.find((r) => r.name === "conv2.weight")!.relError).toBeLessThan(5e-2);
  });
});

describe("training", () => {
  it("one Adam step on a fixed batch lowers the loss and makes the true class more likely", () => {
    const net = new Network(seedCnn(10), { seed: 1 });
    heInit(net.params, 2);
    const { x, labels } = randomBatch(net, 8, 3);
    const eval_ = () => {
      const logits = net.forward(x, 8, false);
      const probs = new Float32Array(logits.length);
      softmax(logits, probs, 8, 10);
      const pTrue = Array.from(labels, (y, i) => probs[i * 10 + y]);
      return { loss: softmaxCrossEntropy(logits, labels, 8, 10, null).loss, pTrue };
    };
    const before = eval_();
    // Adam's first step moves every weight by ~lr (a sign step); 1e-4 is a step size at which the
    // first-order decrease shows on 633k weights (1e-3 overshoots on this random batch).
    const opt = new Optimizer("adam", net.params, { lr: 1e-4 });
    // Dropout off for this single step so the update is judged on the same function it optimised.
    const logits = net.forward(x, 8, false);
    const d = new Float32Array(80);
    softmaxCrossEntropy(logits, labels, 8, 10, d);
    net.backward(d, 8);
    opt.step(net.params);
    const after = eval_();
    expect(after.loss).toBeLessThan(before.loss);
    after.pTrue.forEach((p, i) => expect(p, `example ${i}`).toBeGreaterThan(before.pTrue[i]));
  });

  it("reaches > 95 % training accuracy on a small separable synthetic set within a few hundred steps", () => {
    // 3 classes of 1x8x8 images: a bright horizontal bar, a vertical bar or a diagonal, with noise.
    const spec: ArchSpec = { name: "tiny", input: [1, 8, 8], layers: [
      { type: "conv", filters: 4, size: 3, pad: 1 }, { type: "relu" }, { type: "pool", size: 2 },
      { type: "affine", units: 16 }, { type: "relu" }, { type: "affine", units: 3 },
    ] };
    const net = new Network(spec, { seed: 1 });
    heInit(net.params, 1);
    const rng = new Rng(9), N = 60;
    const x = new Float32Array(N * 64), labels = new Int32Array(N);
    for (let i = 0; i < N; i++) {
      const c = i % 3, at = 1 + rng.int(6);
      labels[i] = c;
      for (let p = 0; p < 64; p++) {
        const r = p >> 3, col = p & 7;
        const on = c === 0 ? r === at : c === 1 ? col === at : r === col;
        x[i * 64 + p] = (on ? 1 : 0) + (rng.uniform() - 0.5) * 0.3;
      }
    }
    const opt = new Optimizer("adam", net.params, { lr: 1e-2 });
    const buffers = makeStepBuffers(net, N);
    for (let step = 1; step <= 200; step++) trainStep(net, opt, x, labels, N, buffers, step);
    const { correct } = softmaxCrossEntropy(net.forward(x, N, false), labels, N, 3, null);
    expect(correct / N).toBeGreaterThan(0.95);
  });

  it("same seed gives bit-identical weights and the same loss sequence", () => {
    const run = () => {
      const net = new Network(seedCnn(10), { seed: 4 });
      heInit(net.params, 42);
      const weights = net.params.map((p) => p.data.slice());
      const opt = new Optimizer("adam", net.params);
      const { x, labels } = randomBatch(net, 4, 1);
      const buffers = makeStepBuffers(net, 4);
      const losses = [1, 2, 3].map((s) => trainStep(net, opt, x, labels, 4, buffers, s).loss);
      return { weights, losses };
    };
    const a = run(), b = run();
    expect(a.losses).toEqual(b.losses);
    a.weights.forEach((w, i) => expect(Buffer.from(w.buffer).equals(Buffer.from(b.weights[i].buffer))).toBe(true));
    const other = new Network(seedCnn(10));
    heInit(other.params, 43);
    expect(other.params[0].data).not.toEqual(a.weights[0]);
  });

  it("He init has the right scale: std of conv1 weights ~ sqrt(2/27), biases zero", () => {
    const net = new Network(seedCnn(10));
    heInit(net.params, 5);
    const w = net.param("affine1.weight").data;
    const std = Math.sqrt(w.reduce((s, v) => s + v * v, 0) / w.length);
    expect(std).toBeCloseTo(Math.sqrt(2 / 512), 3);
    expect(net.param("conv1.bias").data.every((v) => v === 0)).toBe(true);
  });

  it("a diverging SGD run stops with an error that names the layer and suggests the fix", () => {
    const net = new Network(seedCnn(10), { seed: 1 });
    heInit(net.params, 2);
    const opt = new Optimizer("sgd", net.params, { lr: 1e6 });
    const { x, labels } = randomBatch(net, 4, 1);
    const buffers = makeStepBuffers(net, 4);
    let error: unknown;
    try {
      for (let s = 1; s <= 20; s++) trainStep(net, opt, x, labels, 4, buffers, s);
    } catch (e) { error = e; }
    expect(error).toBeInstanceOf(DivergenceError);
    expect(String(error)).toMatch(/training diverged at step \d+: (the loss became (NaN|Infinity)|\w+\.(weight|bias) \(layer \w+\) has (NaN|-?Infinity) values)/);
    expect(String(error)).toMatch(/Lower the learning rate \(--lr/);
  });

  it("optimizer state round-trips: a restored optimizer continues exactly", () => {
    for (const kind of ["adam", "sgd", "momentum"] as const) {
      const make = () => { const n = new Network(seedCnn(10), { seed: 2 }); heInit(n.params, 3); return n; };
      const { x, labels } = randomBatch(make(), 4, 6);
      const a = make(), optA = new Optimizer(kind, a.params, { lr: 1e-3 });
      const buf = makeStepBuffers(a, 4);
      trainStep(a, optA, x, labels, 4, buf, 1);
      const saved = JSON.parse(JSON.stringify({ ...optA.getState(), slots: optA.getState().slots.map((s) => Array.from(s)) }));
      const weights = a.params.map((p) => p.data.slice()), rng = a.rng.getState();
      const lossA = trainStep(a, optA, x, labels, 4, buf, 2).loss;
      const b = make();
      b.params.forEach((p, i) => p.data.set(weights[i]));
      b.rng.setState(rng);
      const optB = new Optimizer(kind, b.params);
      optB.setState({ ...saved, slots: saved.slots.map((s: number[]) => Float32Array.from(s)) });
      const lossB = trainStep(b, optB, x, labels, 4, makeStepBuffers(b, 4), 2).loss;
      expect(lossB, kind).toBe(lossA);
      a.params.forEach((p, i) => expect(b.params[i].data, `${kind} ${p.name}`).toEqual(p.data));
    }
  });
});

describe("optimizer in shared storage", () => {
  it("an update split into ranges by several Optimizers sharing one slot storage is bit-identical to step()", () => {
    for (const kind of ["adam", "sgd", "momentum"] as const) {
      const make = () => { const n = new Network(seedCnn(10), { seed: 2 }); heInit(n.params, 3); n.params.forEach((p, i) => p.grad.forEach((_, j) => { p.grad[j] = Math.sin(i + j); })); return n; };
      const a = make(), optA = new Optimizer(kind, a.params, { lr: 1e-2, weightDecay: 0.1 });
      const b = make(), size = b.parameterCount, storage = new Float32Array(new SharedArrayBuffer(4 * slotsPerParam(kind) * size));
      const main = new Optimizer(kind, b.params, { lr: 1e-2, weightDecay: 0.1 }, storage);
      const ranges = [[0, 1000], [1000, 500_000], [500_000, size]]; // cuts inside tensors
      const parts = ranges.map(() => new Optimizer(kind, b.params, { lr: 1e-2, weightDecay: 0.1 }, storage));
      for (let step = 1; step <= 3; step++) {
        optA.step(a.params);
        main.t++;
        parts.forEach((o, i) => { o.t = main.t; o.updateRange(b.params, ranges[i][0], ranges[i][1]); });
      }
      a.params.forEach((p, i) => expect(b.params[i].data, `${kind} ${p.name}`).toEqual(p.data));
      expect(main.getState()).toEqual(optA.getState());
    }
    expect(() => new Optimizer("adam", new Network(seedCnn(2)).params, {}, new Float32Array(3))).toThrow(/optimizer storage holds 3 values; adam needs \d+/);
  });
});

describe("forward", () => {
  it("gives each example the same logits alone as in a batch", () => {
    const net = new Network(seedCnn(10));
    heInit(net.params, 8);
    const { x } = randomBatch(net, 3, 2);
    const batch = net.forward(x, 3).slice();
    const one = net.forward(x.subarray(net.inputSize, 2 * net.inputSize), 1).slice();
    for (let c = 0; c < 10; c++) expect(one[c]).toBeCloseTo(batch[10 + c], 5);
  });

  it("rejects an input of the wrong size with a message giving the expected shape", () => {
    const net = new Network(seedCnn(10));
    expect(() => net.forward(new Float32Array(100), 1)).toThrow("input has 100 values, expected 1 x 3x32x32 = 3072");
    expect(() => net.forward(new Float32Array(3072), 0)).toThrow("batch size must be a positive integer, got 0");
  });

  it("storage: params and grads live in the given flat arrays (e.g. shared memory), values as found there", () => {
    const size = new Network(seedCnn(3)).parameterCount;
    const params = new Float32Array(new SharedArrayBuffer(4 * size)).fill(0.5), grads = new Float32Array(size);
    const net = new Network(seedCnn(3), { storage: { params, grads } });
    expect(net.params.every((p) => p.data.buffer === params.buffer && p.data.every((v) => v === 0.5))).toBe(true);
    net.param("affine2.bias").data[1] = 2;
    expect(params[size - 2]).toBe(2); // the last tensor's second value
    const { x, labels } = randomBatch(net, 2, 1);
    const d = new Float32Array(6);
    softmaxCrossEntropy(net.forward(x, 2, true), labels, 2, 3, d);
    net.backward(d, 2);
    expect(grads.subarray(size - 3).some((g) => g !== 0)).toBe(true);
    expect(() => new Network(seedCnn(3), { storage: { params: new Float32Array(10) } })).toThrow(`parameter storage holds 10 values; the network has ${size}`);
  });

  it("uses the TS kernels by default", () => {
    expect(new Network(seedCnn(2)).kernels).toBe(tsKernels);
  });
});
