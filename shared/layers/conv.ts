// Convolution as im2col + matrix product. Weights [F x C x kh x kw] (the ONNX/PyTorch layout), bias [F].
// Per example: col = im2col(x) [C*kh*kw x OH*OW]; y = W * col + b. The columns of the whole batch are
// kept from forward to backward (a few MB for seed-cnn at batch 100) so backward does not redo them.

import type { Kernels } from "../kernels/kernels.ts";
import type { Shape } from "../spec.ts";
import { makeParam, type ForwardContext, type Layer, type Param } from "./layer.ts";

export class ConvLayer implements Layer {
  readonly params: Param[];
  readonly weight: Param;
  readonly bias: Param;
  private col = new Float32Array(0);
  private dcol = new Float32Array(0);
  private readonly K: number; // C*kh*kw
  private readonly L: number; // OH*OW

  constructor(
    readonly name: string, readonly inShape: Shape, readonly outShape: Shape,
    readonly size: number, readonly stride: number, readonly pad: number,
  ) {
    this.weight = makeParam(`${name}.weight`, [outShape[0], inShape[0], size, size]);
    this.bias = makeParam(`${name}.bias`, [outShape[0]]);
    this.params = [this.weight, this.bias];
    this.K = inShape[0] * size * size;
    this.L = outShape[1] * outShape[2];
    this.dcol = new Float32Array(this.K * this.L);
  }

  resize(n: number): void {
    this.col = new Float32Array(n * this.K * this.L);
  }

  forward(x: Float32Array, y: Float32Array, n: number, { kernels }: ForwardContext): void {
    const [C, H, W] = this.inShape, [F, OH, OW] = this.outShape;
    const { K, L, col, size, stride, pad } = this;
    const w = this.weight.data, b = this.bias.data;
    for (let i = 0; i < n; i++) {
      kernels.im2col(x, i * C * H * W, C, H, W, size, size, stride, pad, OH, OW, col, i * K * L);
      const yo = i * F * L;
      kernels.gemm(false, false, F, L, K, w, 0, col, i * K * L, y, yo, false);
      for (let f = 0; f < F; f++) {
        const bf = b[f];
        for (let j = yo + f * L, e = j + L; j < e; j++) y[j] += bf;
      }
    }
  }

  backward(_x: Float32Array, _y: Float32Array, dy: Float32Array, dx: Float32Array | null, n: number, kernels: Kernels): void {
    const [C, H, W] = this.inShape, [F, OH, OW] = this.outShape;
    const { K, L, col, dcol, size, stride, pad } = this;
    const dw = this.weight.grad, db = this.bias.grad;
    db.fill(0);
    if (dx) dx.fill(0);
    for (let i = 0; i < n; i++) {
      const yo = i * F * L;
      // dW += dy_i [F x L] * col_i^T [L x K]
      kernels.gemm(false, true, F, K, L, dy, yo, col, i * K * L, dw, 0, i > 0);
      for (let f = 0; f < F; f++) {
        let s = 0;
        for (let j = yo + f * L, e = j + L; j < e; j++) s += dy[j];
        db[f] += s;
      }
      if (dx) {
        // dcol = W^T [K x F] * dy_i [F x L], then scatter back to the image.
        kernels.gemm(true, false, K, L, F, this.weight.data, 0, dy, yo, dcol, 0, false);
        kernels.col2im(dcol, 0, C, H, W, size, size, stride, pad, OH, OW, dx, i * C * H * W);
      }
    }
  }
}
