// Affine (fully connected): y = x W^T + b with W [units x inputs] (the ONNX Gemm transB=1 / PyTorch
// Linear layout) and x flattened per example in C*H*W order (the same as ONNX Flatten).

import type { Kernels } from "../kernels/kernels.ts";
import type { Shape } from "../spec.ts";
import { makeParam, type ForwardContext, type Layer, type Param } from "./layer.ts";

export class AffineLayer implements Layer {
  readonly params: Param[];
  readonly weight: Param;
  readonly bias: Param;
  private readonly I: number;

  constructor(readonly name: string, readonly inShape: Shape, readonly outShape: Shape) {
    this.I = inShape[0] * inShape[1] * inShape[2];
    this.weight = makeParam(`${name}.weight`, [outShape[0], this.I]);
    this.bias = makeParam(`${name}.bias`, [outShape[0]]);
    this.params = [this.weight, this.bias];
  }

  resize(): void {}

  forward(x: Float32Array, y: Float32Array, n: number, { kernels }: ForwardContext): void {
    const O = this.outShape[0], b = this.bias.data;
    kernels.gemm(false, true, n, O, this.I, x, 0, this.weight.data, 0, y, 0, false);
    for (let i = 0; i < n; i++) for (let o = 0; o < O; o++) y[i * O + o] += b[o];
  }

  backward(x: Float32Array, _y: Float32Array, dy: Float32Array, dx: Float32Array | null, n: number, kernels: Kernels): void {
    const O = this.outShape[0], I = this.I, db = this.bias.grad;
    // dW [O x I] = dy^T [O x n] * x [n x I]
    kernels.gemm(true, false, O, I, n, dy, 0, x, 0, this.weight.grad, 0, false);
    db.fill(0);
    for (let i = 0; i < n; i++) for (let o = 0; o < O; o++) db[o] += dy[i * O + o];
    // dx [n x I] = dy [n x O] * W [O x I]
    if (dx) kernels.gemm(false, false, n, I, O, dy, 0, this.weight.data, 0, dx, 0, false);
  }
}
