// ReLU: y = max(0, x). Backward uses the output (y > 0), so x need not be kept. The loops are kernels
// (reluForward / reluBackward): with random signs a plain JS loop is bound by branch mispredictions
// (several ns per value), while Wasm SIMD selects without branching.

import type { Kernels } from "../kernels/kernels.ts";
import { tsKernels } from "../kernels/ts-kernels.ts";
import type { Shape } from "../spec.ts";
import type { ForwardContext, Layer } from "./layer.ts";

export class ReluLayer implements Layer {
  readonly params = [];
  constructor(readonly name: string, readonly inShape: Shape, readonly outShape: Shape) {}

  resize(): void {}

  forward(x: Float32Array, y: Float32Array, n: number, ctx?: ForwardContext): void {
    const len = n * this.inShape[0] * this.inShape[1] * this.inShape[2];
    // `v < 0 ? 0 : v` semantics: NaN passes through, so the divergence check sees it.
    (ctx?.kernels ?? tsKernels).reluForward(x, y, len);
  }

  backward(_x: Float32Array, y: Float32Array, dy: Float32Array, dx: Float32Array | null, n: number, kernels: Kernels = tsKernels): void {
    if (!dx) return;
    kernels.reluBackward(y, dy, dx, n * this.inShape[0] * this.inShape[1] * this.inShape[2]);
  }
}
