// GELU: y = x * Phi(x), the exact (erf-based) form PyTorch's nn.GELU() and ONNX's Erf give. Backward
// needs the input x (gelu is not invertible from y), which the network keeps anyway.

import type { Kernels } from "../kernels/kernels.ts";
import type { Shape } from "../spec.ts";
import type { ForwardContext, Layer } from "./layer.ts";

export class GeluLayer implements Layer {
  readonly params = [];
  constructor(readonly name: string, readonly inShape: Shape, readonly outShape: Shape) {}

  resize(): void {}

  forward(x: Float32Array, y: Float32Array, n: number, { kernels, train }: ForwardContext): void {
    // Inference takes the faster form (same values within 1e-6); training the one precise in the tail.
    const len = n * this.inShape[0] * this.inShape[1] * this.inShape[2];
    if (train) kernels.geluForward(x, y, len);
    else kernels.geluForwardFast(x, y, len);
  }

  backward(x: Float32Array, _y: Float32Array, dy: Float32Array, dx: Float32Array | null, n: number, kernels: Kernels): void {
    if (!dx) return;
    kernels.geluBackward(x, dy, dx, n * this.inShape[0] * this.inShape[1] * this.inShape[2]);
  }
}
