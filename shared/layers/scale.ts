// Multiplies by a constant (airbench's logits x 1/9: it sets the classifier's effective learning rate).
// Folded into the preceding affine layer's weights for inference and export.

import type { Shape } from "../spec.ts";
import type { Layer } from "./layer.ts";

export class ScaleLayer implements Layer {
  readonly params = [];
  constructor(readonly name: string, readonly inShape: Shape, readonly outShape: Shape, readonly factor: number) {}

  resize(): void {}

  forward(x: Float32Array, y: Float32Array, n: number): void {
    const len = n * this.inShape[0] * this.inShape[1] * this.inShape[2], f = this.factor;
    for (let i = 0; i < len; i++) y[i] = x[i] * f;
  }

  backward(_x: Float32Array, _y: Float32Array, dy: Float32Array, dx: Float32Array | null, n: number): void {
    if (!dx) return;
    const len = n * this.inShape[0] * this.inShape[1] * this.inShape[2], f = this.factor;
    for (let i = 0; i < len; i++) dx[i] = dy[i] * f;
  }
}
