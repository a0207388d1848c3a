// Convolution. Weights [F x C x kh x kw] (the ONNX/PyTorch layout), bias [F]. The arithmetic is the
// kernels' convForward / convBackward (im2col + matrix product in the TS reference); the layer holds
// only the shape and the parameters.

import { convShape, type ConvShape, type Kernels } from "../kernels/kernels.ts";
import type { Shape } from "../spec.ts";
import { makeParam, type ForwardContext, type Layer, type Param } from "./layer.ts";

export class ConvLayer implements Layer {
  readonly params: Param[];
  readonly weight: Param;
  readonly bias: Param;
  private readonly shape: ConvShape;

  constructor(
    readonly name: string, readonly inShape: Shape, readonly outShape: Shape,
    readonly size: number, readonly stride: number, readonly pad: number,
  ) {
    this.weight = makeParam(`${name}.weight`, [outShape[0], inShape[0], size, size]);
    this.bias = makeParam(`${name}.bias`, [outShape[0]]);
    this.params = [this.weight, this.bias];
    this.shape = convShape(inShape[0], inShape[1], inShape[2], outShape[0], size, stride, pad);
  }

  resize(): void {}

  forward(x: Float32Array, y: Float32Array, n: number, { kernels }: ForwardContext): void {
    kernels.convForward(x, this.weight.data, this.bias.data, y, n, this.shape);
  }

  backward(x: Float32Array, _y: Float32Array, dy: Float32Array, dx: Float32Array | null, n: number, kernels: Kernels): void {
    kernels.convBackward(x, this.weight.data, dy, this.weight.grad, this.bias.grad, dx, n, this.shape);
  }
}
