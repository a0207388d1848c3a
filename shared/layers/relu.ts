// ReLU: y = max(0, x). Backward uses the output (y > 0), so x need not be kept.

import type { Shape } from "../spec.ts";
import type { Layer } from "./layer.ts";

export class ReluLayer implements Layer {
  readonly params = [];
  constructor(readonly name: string, readonly inShape: Shape, readonly outShape: Shape) {}

  resize(): void {}

  forward(x: Float32Array, y: Float32Array, n: number): void {
    const len = n * this.inShape[0] * this.inShape[1] * this.inShape[2];
    // `v < 0 ? 0 : v` lets NaN through (`v > 0 ? v : 0` would hide it as 0): the divergence check must see it.
    for (let i = 0; i < len; i++) { const v = x[i]; y[i] = v < 0 ? 0 : v; }
  }

  backward(_x: Float32Array, y: Float32Array, dy: Float32Array, dx: Float32Array | null, n: number): void {
    if (!dx) return;
    const len = n * this.inShape[0] * this.inShape[1] * this.inShape[2];
    for (let i = 0; i < len; i++) dx[i] = y[i] > 0 ? dy[i] : 0;
  }
}
