// Affine (fully connected): y = x W^T + b with W [units x inputs] (the ONNX Gemm transB=1 / PyTorch
// Linear layout) and x flattened per example in C*H*W order (the same as ONNX Flatten). The bias is
// optional (airbench's classifier has none).

import type { Kernels } from "../kernels/kernels.ts";
import type { Shape } from "../spec.ts";
import { makeParam, type ForwardContext, type Layer, type Param } from "./layer.ts";

export class AffineLayer implements Layer {
  readonly params: Param[];
  readonly weight: Param;
  readonly bias: Param | null;
  private readonly I: number;
  private readonly zeroBias: Float32Array;
  private readonly scratchBiasGrad: Float32Array;

  constructor(readonly name: string, readonly inShape: Shape, readonly outShape: Shape, hasBias = true) {
    this.I = inShape[0] * inShape[1] * inShape[2];
    this.weight = makeParam(`${name}.weight`, [outShape[0], this.I]);
    this.bias = hasBias ? makeParam(`${name}.bias`, [outShape[0]]) : null;
    this.params = this.bias ? [this.weight, this.bias] : [this.weight];
    this.zeroBias = new Float32Array(outShape[0]);
    this.scratchBiasGrad = new Float32Array(outShape[0]);
  }

  resize(): void {}

  forward(x: Float32Array, y: Float32Array, n: number, { kernels }: ForwardContext): void {
    kernels.affineForward(x, this.weight.data, this.bias ? this.bias.data : this.zeroBias, y, n, this.I, this.outShape[0]);
  }

  backward(x: Float32Array, _y: Float32Array, dy: Float32Array, dx: Float32Array | null, n: number, kernels: Kernels): void {
    kernels.affineBackward(x, this.weight.data, dy, this.weight.grad, this.bias ? this.bias.grad : this.scratchBiasGrad, dx, n, this.I, this.outShape[0]);
  }
}
