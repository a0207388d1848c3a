// GELU: y = x * Phi(x), the exact (erf-based) form PyTorch's nn.GELU() and ONNX's Erf give. A training
// forward also writes the slope gelu'(x) (nearly free there), so backward is one multiply. The slope
// buffer exists only once the layer has trained: a frozen network (the Worker) never allocates it.

import type { Kernels } from "../kernels/kernels.ts";
import type { Shape } from "../spec.ts";
import type { ForwardContext, Layer } from "./layer.ts";

export class GeluLayer implements Layer {
  readonly params = [];
  private slope = new Float32Array(0);
  constructor(readonly name: string, readonly inShape: Shape, readonly outShape: Shape) {}

  resize(): void {}

  forward(x: Float32Array, y: Float32Array, n: number, { kernels, train }: ForwardContext): void {
    // Inference takes the faster form (same values within 1e-6); training the one precise in the tail.
    const len = n * this.inShape[0] * this.inShape[1] * this.inShape[2];
    if (!train) { kernels.geluForwardFast(x, y, len); return; }
    if (this.slope.length !== len) this.slope = new Float32Array(len);
    kernels.geluForward(x, y, this.slope, len);
  }

  backward(_x: Float32Array, _y: Float32Array, dy: Float32Array, dx: Float32Array | null, n: number, kernels: Kernels): void {
    if (!dx) return;
    const len = n * this.inShape[0] * this.inShape[1] * this.inShape[2];
    if (this.slope.length !== len) throw new Error(`${this.name}: backward needs a training forward of the same batch first`);
    kernels.multiply(dy, this.slope, dx, len);
  }
}
