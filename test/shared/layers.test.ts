import { describe, expect, it } from "vitest";
import { tsKernels, type Layer } from "../../shared/index.ts";
import { AffineLayer } from "../../shared/layers/affine.ts";
import { ConvLayer } from "../../shared/layers/conv.ts";
import { DropoutLayer } from "../../shared/layers/dropout.ts";
import { MaxPoolLayer } from "../../shared/layers/maxpool.ts";
import { ReluLayer } from "../../shared/layers/relu.ts";
import { checkLayer } from "./gradcheck.ts";
import { IMPLEMENTATIONS } from "./implementations.ts";

const TOL = 1e-2;

// Layers built directly with awkward shapes: odd sizes, stride 2, padding, non-square.
const cases: Array<[string, () => Layer, number]> = [
  ["conv 3x3 pad 1 (seed-cnn)", () => new ConvLayer("conv1", [3, 6, 6], [4, 6, 6], 3, 1, 1), 2],
  ["conv 5x5 stride 2 pad 2, odd sizes", () => new ConvLayer("conv2", [2, 7, 5], [3, 4, 3], 5, 2, 2), 3],
  ["conv 1x1 no pad", () => new ConvLayer("conv3", [5, 3, 3], [2, 3, 3], 1, 1, 0), 1],
  ["conv 2x2 stride 3 no pad", () => new ConvLayer("conv4", [1, 8, 7], [2, 3, 2], 2, 3, 0), 2],
  ["relu", () => new ReluLayer("relu1", [3, 4, 5], [3, 4, 5]), 2],
  ["maxpool 2x2 stride 2", () => new MaxPoolLayer("pool1", [2, 6, 6], [2, 3, 3], 2, 2), 2],
  ["maxpool 3x3 stride 2 (overlapping), odd size", () => new MaxPoolLayer("pool2", [2, 7, 5], [2, 3, 2], 3, 2), 2],
  ["dropout 0.5 (training)", () => new DropoutLayer("dropout1", [3, 4, 4], [3, 4, 4], 0.5), 2],
  ["affine", () => new AffineLayer("affine1", [3, 2, 2], [5, 1, 1]), 3],
  ["affine batch 1", () => new AffineLayer("affine2", [7, 1, 1], [2, 1, 1]), 1],
  ["conv 3x3 pad 1, 9 filters on 5x7 (odd tiles)", () => new ConvLayer("conv5", [2, 5, 7], [9, 5, 7], 3, 1, 1), 2],
  ["conv 3x3 no pad, 6 filters", () => new ConvLayer("conv6", [3, 7, 6], [6, 5, 4], 3, 1, 0), 2],
];

for (const kernels of IMPLEMENTATIONS) {
  describe(`numerical gradient check, every layer, ${kernels.name} kernels`, () => {
    for (const [title, make, n] of cases) {
      it(title, () => {
        for (const r of checkLayer(make(), n, kernels)) {
          expect(r.relError, `${r.name}: relative error ${r.relError}`).toBeLessThan(TOL);
        }
      });
    }
  });
}

describe("numerical gradient check catches broken layers", () => {

  it("fails for a deliberately wrong backward (conv weight gradient off by 10 %)", () => {
    class BrokenConv extends ConvLayer {
      override backward(...args: Parameters<ConvLayer["backward"]>): void {
        super.backward(...args);
        for (let i = 0; i < this.weight.grad.length; i++) this.weight.grad[i] *= 1.1;
      }
    }
    const reports = checkLayer(new BrokenConv("conv1", [3, 6, 6], [4, 6, 6], 3, 1, 1), 2, tsKernels);
    const w = reports.find((r) => r.name === "conv1.weight")!;
    expect(w.relError).toBeGreaterThan(TOL);
    expect(reports.find((r) => r.name === "conv1 input")!.relError).toBeLessThan(TOL);
  });

  it("fails for a deliberately wrong backward (max pool routing to the wrong cell)", () => {
    class BrokenPool extends MaxPoolLayer {
      override backward(...args: Parameters<MaxPoolLayer["backward"]>): void {
        super.backward(...args);
        const dx = args[3]!;
        dx.copyWithin(1, 0); // shift every gradient by one cell
      }
    }
    const [input] = checkLayer(new BrokenPool("pool1", [2, 6, 6], [2, 3, 3], 2, 2), 2, tsKernels);
    expect(input.relError).toBeGreaterThan(TOL);
  });
});

describe("layer behaviour", () => {
  it("dropout is the identity at inference and zeroes about `ratio` of units (scaled by 1/(1-ratio)) in training", async () => {
    const { Rng } = await import("../../shared/index.ts");
    const d = new DropoutLayer("dropout1", [10, 10, 10], [10, 10, 10], 0.5);
    d.resize(10);
    const x = new Float32Array(10000).fill(1), y = new Float32Array(10000);
    d.forward(x, y, 10, { kernels: tsKernels, train: false, rng: new Rng(1) });
    expect(Array.from(y).every((v) => v === 1)).toBe(true);
    d.forward(x, y, 10, { kernels: tsKernels, train: true, rng: new Rng(1) });
    const zeros = y.filter((v) => v === 0).length;
    expect(zeros / 10000).toBeGreaterThan(0.47);
    expect(zeros / 10000).toBeLessThan(0.53);
    expect(y.filter((v) => v !== 0).every((v) => v === 2)).toBe(true);
  });

  it("per-example dropout streams: an example's mask is the same wherever in a batch part it is computed, on every kernel implementation", async () => {
    const { Rng } = await import("../../shared/index.ts");
    const key = new Rng(7).getState(), units = 3 * 4 * 4, n = 5;
    const x = new Float32Array(n * units).map((_, i) => 1 + (i % 7));
    const run = (kernels: typeof tsKernels, first: number, count: number, step = 3): Float32Array => {
      const d = new DropoutLayer("dropout1", [3, 4, 4], [3, 4, 4], 0.5);
      d.resize(count);
      const y = new Float32Array(count * units);
      d.forward(x.subarray(first * units, (first + count) * units), y, count, { kernels, train: true, rng: new Rng(1), masks: { key, step, first } });
      return y;
    };
    const whole = run(tsKernels, 0, n);
    for (const kernels of IMPLEMENTATIONS) {
      expect(run(kernels, 0, n), kernels.name).toEqual(whole);
      expect(run(kernels, 2, 3), kernels.name).toEqual(whole.subarray(2 * units)); // examples 2..4 as a part
    }
    const zeros = whole.filter((v) => v === 0).length;
    expect(zeros / whole.length).toBeGreaterThan(0.35);
    expect(zeros / whole.length).toBeLessThan(0.65);
    expect(run(tsKernels, 0, n, 4)).not.toEqual(whole); // another step, other masks
    const other = new DropoutLayer("dropout2", [3, 4, 4], [3, 4, 4], 0.5);
    other.resize(n);
    const y2 = new Float32Array(n * units);
    other.forward(x, y2, n, { kernels: tsKernels, train: true, rng: new Rng(1), masks: { key, step: 3, first: 0 } });
    expect(y2).not.toEqual(whole); // another layer, other masks
  });

  it("relu and max pool let NaN through so divergence is detected, not hidden", () => {
    const r = new ReluLayer("relu1", [1, 1, 2], [1, 1, 2]);
    const y = new Float32Array(2);
    r.forward(new Float32Array([NaN, -1]), y, 1);
    expect(Number.isNaN(y[0])).toBe(true);
    const p = new MaxPoolLayer("pool1", [1, 2, 2], [1, 1, 1], 2, 2);
    p.resize(1);
    const out = new Float32Array(1);
    p.forward(new Float32Array([1, NaN, 3, 2]), out, 1, { kernels: tsKernels, train: false, rng: null! });
    expect(Number.isNaN(out[0])).toBe(true);
  });
});
