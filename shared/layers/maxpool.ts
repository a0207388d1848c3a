// Max pooling (any size and stride, no padding). Forward records where each maximum came from;
// backward routes the gradient there (ties go to the first maximum, as in PyTorch and ONNX).

import type { Kernels } from "../kernels/kernels.ts";
import type { Shape } from "../spec.ts";
import type { ForwardContext, Layer } from "./layer.ts";

export class MaxPoolLayer implements Layer {
  readonly params = [];
  private argmax = new Int32Array(0);

  constructor(
    readonly name: string, readonly inShape: Shape, readonly outShape: Shape,
    readonly size: number, readonly stride: number,
  ) {}

  resize(n: number): void {
    this.argmax = new Int32Array(n * this.outShape[0] * this.outShape[1] * this.outShape[2]);
  }

  forward(x: Float32Array, y: Float32Array, n: number, { kernels }: ForwardContext): void {
    const [C, H, W] = this.inShape, [, OH, OW] = this.outShape;
    kernels.maxpoolForward(x, y, this.argmax, n * C, H, W, this.size, this.stride, OH, OW);
  }

  backward(_x: Float32Array, _y: Float32Array, dy: Float32Array, dx: Float32Array | null, n: number, kernels: Kernels): void {
    if (!dx) return;
    const [C, OH, OW] = this.outShape;
    kernels.maxpoolBackward(dy, this.argmax, dx, n * C * OH * OW);
  }
}
