// Dropout, active only while training. Convention: "inverted" dropout. Kept units are scaled by
// 1/(1-ratio) at training time, so the expected activation is unchanged and inference is the identity:
// the Worker, the browser and the ONNX export need no dropout node and no rescaling at all.

import type { Kernels } from "../kernels/kernels.ts";
import { tsKernels } from "../kernels/ts-kernels.ts";
import type { Shape } from "../spec.ts";
import type { ForwardContext, Layer } from "./layer.ts";

export class DropoutLayer implements Layer {
  readonly params = [];
  private mask = new Float32Array(0); // 0 or 1/(1-ratio) per unit of the last training forward

  constructor(readonly name: string, readonly inShape: Shape, readonly outShape: Shape, readonly ratio: number) {}

  resize(n: number): void {
    this.mask = new Float32Array(n * this.inShape[0] * this.inShape[1] * this.inShape[2]);
  }

  forward(x: Float32Array, y: Float32Array, n: number, { train, rng, kernels }: ForwardContext): void {
    const len = n * this.inShape[0] * this.inShape[1] * this.inShape[2];
    if (!train || this.ratio === 0) {
      if (x !== y) y.set(x.subarray(0, len));
      this.mask.fill(1);
      return;
    }
    // The mask comes from the network's rng in order (bit-identical on every kernel implementation).
    kernels.dropoutForward(x, y, this.mask, len, 1 - this.ratio, rng);
  }

  backward(_x: Float32Array, _y: Float32Array, dy: Float32Array, dx: Float32Array | null, n: number, kernels: Kernels = tsKernels): void {
    if (!dx) return;
    kernels.dropoutBackward(dy, this.mask, dx, n * this.inShape[0] * this.inShape[1] * this.inShape[2]);
  }
}
