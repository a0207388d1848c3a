// Global max or average pooling: C x H x W -> C x 1 x 1, so the layers before it work at any input
// size. Max routes each gradient to the first maximum of its plane (as PyTorch and ONNX do). Plain
// loops: it touches each value once, next to the convolutions' hundreds of multiply-adds per value.

import type { Shape } from "../spec.ts";
import type { Layer } from "./layer.ts";

export class GlobalPoolLayer implements Layer {
  readonly params = [];
  private argmax = new Int32Array(0);

  constructor(readonly name: string, readonly inShape: Shape, readonly outShape: Shape, readonly mode: "max" | "avg") {}

  resize(n: number): void {
    this.argmax = new Int32Array(n * this.inShape[0]);
  }

  forward(x: Float32Array, y: Float32Array, n: number): void {
    const planes = n * this.inShape[0], HW = this.inShape[1] * this.inShape[2];
    for (let p = 0; p < planes; p++) {
      const o = p * HW;
      if (this.mode === "avg") {
        let s = 0;
        for (let i = 0; i < HW; i++) s += x[o + i];
        y[p] = s / HW;
      } else {
        let best = x[o], at = o;
        for (let i = 1; i < HW; i++) if (x[o + i] > best) { best = x[o + i]; at = o + i; }
        y[p] = best;
        this.argmax[p] = at;
      }
    }
  }

  backward(_x: Float32Array, _y: Float32Array, dy: Float32Array, dx: Float32Array | null, n: number): void {
    if (!dx) return;
    const planes = n * this.inShape[0], HW = this.inShape[1] * this.inShape[2];
    if (this.mode === "avg") {
      for (let p = 0; p < planes; p++) { const g = dy[p] / HW; for (let i = 0, o = p * HW; i < HW; i++) dx[o + i] = g; }
      return;
    }
    dx.fill(0, 0, planes * HW);
    for (let p = 0; p < planes; p++) dx[this.argmax[p]] += dy[p];
  }
}
